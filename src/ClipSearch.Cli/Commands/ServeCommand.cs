using System.CommandLine;
using System.Globalization;
using ClipSearch.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClipSearch.Cli.Commands;

/// <summary>
/// <c>clipsearch serve [--model DIR] [--variant V] [--threads N] [--urls URL] [--token T] [--library PATH|CONNSTRING] [--max-image-mb N]
/// [--immich [--immich-clients CIDR,…]] [--embed-url-hosts HOST,…] [--no-watch] [--rescan-interval 5m]</c>: the web UI and HTTP API (with OpenAI's embeddings
/// routes, and Immich's machine-learning routes when asked), by default on http://127.0.0.1:8766.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo?>("--model", "-m") { Description = "Model folder to load at start (default: the model installed by `clipsearch model download`; none: the UI offers the download)." };
        var variant = new Option<string>("--variant") { Description = "Weights to run: fp32, quantized or fp16.", DefaultValueFactory = _ => "fp32" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads (default: one per core).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var urls = new Option<string>("--urls") { Description = "Where to listen, e.g. http://127.0.0.1:8766 (several separated by ';'). Beyond loopback a token is required.", DefaultValueFactory = _ => ClipSearchOptions.DefaultUrl };
        var token = new Option<string?>("--token") { Description = $"Access token every API call and browser session must present (default: ${ClipSearchOptions.TokenVariable})." };
        var library = new Option<string?>("--library") { Description = "Photo library to search and manage on the Library tab: a SQLite file, or a PostgreSQL connection string or URL (default: the default library, if it exists; none: search the images uploaded this session)." };
        var warmPresets = new Option<bool>("--warm-presets") { Description = "While no request uses the model, embed the zero-shot presets' prompts into the disk cache (one batch at a time, yielding to every request), so that their first use is instant." };
        var maxImage = new Option<int>("--max-image-mb") { Description = "Largest accepted image upload, in MB.", DefaultValueFactory = _ => 50 };
        var allowedHosts = new Option<string[]>("--allowed-host")
        {
            Description = "A host name the server answers to besides its IP addresses and localhost (repeatable; * for any): a name in DNS or /etc/hosts, or what a reverse proxy forwards.",
            AllowMultipleArgumentsPerToken = false,
        };
        var allowRoots = new Option<string[]>("--allow-root")
        {
            Description = "A folder under which the UI and API may load models and index folders (repeatable). Default: any folder on loopback; beyond loopback none until given.",
        };
        var immich = new Option<bool>("--immich")
        {
            Description = "Also serve Immich's machine-learning API (GET /ping, POST /predict: smart search with ViT-B-32__openai), without the token but only to --immich-clients.",
        };
        var immichClients = new Option<string[]>("--immich-clients")
        {
            Description = "Client networks the Immich routes answer (CIDR or addresses, comma-separated or repeated), e.g. 127.0.0.1/32,172.16.0.0/12. Default: loopback only.",
        };
        var embedUrlHosts = new Option<string[]>("--embed-url-hosts")
        {
            Description = "Hosts whose http(s) image URLs POST /v1/embeddings may fetch (comma-separated or repeated). Default: none (images come as data: URLs).",
        };
        var noWatch = new Option<bool>("--no-watch") { Description = "Do not watch the library's folders: changes are seen only by an index run (default: new, changed, moved and deleted images are indexed as they appear)." };
        var rescan = new RescanIntervalOption();
        var budget = new DecodeBudgetOption();
        var command = new Command("serve", "Serve the web UI and HTTP API (default http://127.0.0.1:8766; OpenAPI at /openapi/v1.json, browsable at /scalar).")
        {
            model, variant, threads, urls, token, library, maxImage, allowedHosts, allowRoots, warmPresets, immich, immichClients, embedUrlHosts, noWatch,
        };
        rescan.AddTo(command);
        budget.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var c = CultureInfo.InvariantCulture;
            if (result.GetValue(maxImage) < 1)
            {
                throw new Core.ClipSearchException("--max-image-mb must be at least 1.");
            }

            var rescanInterval = rescan.Value(result);   // a bad duration is refused before anything starts
            if (result.GetValue(noWatch) && rescan.Given(result))
            {
                throw new Core.ClipSearchException("--rescan-interval says how often the watcher rescans: it has no effect with --no-watch.");
            }

            Core.Limits.CheckThreads(result.GetValue(threads));   // the bound the other commands and the web apply
            if (result.GetValue(immichClients) is { Length: > 0 } && !result.GetValue(immich))
            {
                throw new Core.ClipSearchException("--immich-clients says who may call the Immich routes: add --immich to serve them.");
            }

            // Without --model: the installed default model, as the other commands; none installed: start empty
            // (the UI offers the download).
            var modelPath = result.GetValue(model)?.FullName;
            var variantName = result.GetValue(variant);
            if (modelPath is null && ModelArguments.InstalledDefault(Core.Model.ModelVariants.Parse(variantName ?? "fp32"), result.GetResult(variant) is { Implicit: false }) is { } installed)
            {
                modelPath = installed.Directory;
                variantName = Core.Model.ModelVariants.Name(installed.Variant);
            }

            var libraryLocation = result.GetValue(library);
            if (string.IsNullOrWhiteSpace(libraryLocation) && File.Exists(ClipSearch.Library.Storage.LibraryLocation.DefaultPath()))
            {
                libraryLocation = ClipSearch.Library.Storage.LibraryLocation.DefaultPath();
            }

            var settings = new Dictionary<string, string?>
            {
                ["ClipSearch:Library"] = libraryLocation,
                ["urls"] = result.GetValue(urls),
                ["ClipSearch:ModelPath"] = modelPath,
                ["ClipSearch:Variant"] = variantName,
                ["ClipSearch:Threads"] = result.GetValue(threads).ToString(c),
                ["ClipSearch:Watch"] = (!result.GetValue(noWatch)).ToString(c),
                ["ClipSearch:RescanIntervalSeconds"] = (rescanInterval?.TotalSeconds ?? 0).ToString(c),
                ["ClipSearch:WarmPresets"] = result.GetValue(warmPresets).ToString(c),
                ["ClipSearch:Token"] = result.GetValue(token),
                ["ClipSearch:MaxImageBytes"] = (result.GetValue(maxImage) * 1024L * 1024L).ToString(c),
                ["ClipSearch:DecodeBudgetMegabytes"] = (budget.Bytes(result, Core.Imaging.ImageLoadOptions.Default.MaxPixels) / Core.Imaging.DecodeBudget.BytesPerMegabyte).ToString(c),
                // A failed start is reported once, as "error: …", not as the host's log with a stack trace.
                ["Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host"] = "None",
                // The server's log is for people, on stderr with the CLI's other messages.
                ["Logging:Console:LogToStandardErrorThreshold"] = "Trace",
            };
            AddList(settings, "ClipSearch:AllowedHosts", result.GetValue(allowedHosts));
            AddList(settings, "ClipSearch:AllowedRoots", result.GetValue(allowRoots));
            settings["ClipSearch:Immich:Enabled"] = result.GetValue(immich) ? "true" : null;
            AddList(settings, "ClipSearch:Immich:Clients", result.GetValue(immichClients));
            AddList(settings, "ClipSearch:EmbedUrlHosts", result.GetValue(embedUrlHosts));

            // The server's own settings come from these options and the environment, never from an appsettings.json
            // that happens to lie in the working directory (the content root is the program's folder), and it always
            // runs as Production (no developer error pages, whatever ASPNETCORE_ENVIRONMENT says).
            string[] host = ["--contentRoot", AppContext.BaseDirectory, "--environment", "Production", "--preventHostingStartup", "true"];
            await using var app = WebApp.Build(host, settings);
            await WebApp.StartAsync(app, cancellationToken).ConfigureAwait(false);

            Console.Error.WriteLine(modelPath is null
                ? "No model installed: open the UI to download CLIP ViT-B/32 (or run `clipsearch model download`)."
                : $"Model: {modelPath} ({variantName})");
            Console.Error.WriteLine(libraryLocation is null ? "Library: none (search looks in the images uploaded this session)" : $"Library: {(ClipSearch.Library.Storage.LibraryLocation.IsPostgres(libraryLocation) ? "PostgreSQL (--library)" : libraryLocation)}");
            if (app.Services.GetRequiredService<Web.Services.LibraryHost>().Watch is { } watch)
            {
                Console.Error.WriteLine($"Watching {watch.Folders.Count} folder(s) for changes, rescanning " + (rescanInterval is { } every ? $"every {every.TotalSeconds:0} s" : "never (--rescan-interval 0)"));
            }
            if (result.GetValue(immich))
            {
                Console.Error.WriteLine($"Immich: GET /ping and POST /predict answer {string.Join(", ", app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ClipSearchOptions>>().Value.Immich.CheckedClients().Entries)} without the token (IMMICH_MACHINE_LEARNING_URL=http://<this host>:<port>)");
            }

            Console.Error.WriteLine($"ClipSearch is serving on {string.Join(", ", app.Urls)} (Ctrl+C stops it)");
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return CliApp.Ok;
        });
        return command;
    }

    private static void AddList(Dictionary<string, string?> settings, string key, string[]? values)
    {
        for (var i = 0; i < (values?.Length ?? 0); i++)
        {
            settings[$"{key}:{i.ToString(CultureInfo.InvariantCulture)}"] = values![i];
        }
    }
}
