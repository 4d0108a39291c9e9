// Paste an image anywhere on a page: it goes to the page's first image input (Blazor's InputFile listens to "change").
document.addEventListener("paste", (event) => {
  const files = [...(event.clipboardData?.files ?? [])].filter((f) => f.type.startsWith("image/"));
  const input = document.querySelector("input[data-paste-target]");
  if (files.length === 0 || !input) return;
  const transfer = new DataTransfer();
  for (const file of input.multiple ? files : files.slice(0, 1)) transfer.items.add(file);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
  event.preventDefault();
});
