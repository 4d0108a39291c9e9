// Paste an image anywhere on a page: it goes to the page's first image input (Blazor's InputFile listens to "change").
document.addEventListener("paste", (event) => {
  const input = document.querySelector("input[data-paste-target]");
  // Image types, and the extensions the input accepts (HEIC, JPEG XL and raw files often come without a type).
  const extensions = (input?.accept ?? "").split(",").filter((a) => a.startsWith("."));
  const isImage = (f) => f.type.startsWith("image/") || extensions.some((e) => f.name.toLowerCase().endsWith(e));
  const files = [...(event.clipboardData?.files ?? [])].filter(isImage);
  if (files.length === 0 || !input) return;
  const transfer = new DataTransfer();
  for (const file of input.multiple ? files : files.slice(0, 1)) transfer.items.add(file);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
  event.preventDefault();
});
