using System.Globalization;
using System.Text.Json.Serialization;
using ClipSearch.Web.Api;
using ClipSearch.Web.Components;
using ClipSearch.Web.Security;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace ClipSearch.Web;

/// <summary>
/// Builds the ClipSearch web app — UI, API, OpenAPI — exactly as <c>clipsearch serve</c> and the web project's own
/// Program run it. Settings come from configuration section <c>ClipSearch</c> (<see cref="ClipSearchOptions"/>)
/// and <c>urls</c> (default <see cref="ClipSearchOptions.DefaultUrl"/>).
/// </summary>
public static class WebApp
{
    /// <summary>The UI languages; the first is the fallback.</summary>
    public static readonly string[] Cultures = ["en", "zh-CN"];

    /// <summary>Builds the app; <paramref name="settings"/> override configuration (e.g. <c>ClipSearch:Token</c>, <c>urls</c>).</summary>
    /// <exception cref="Core.ClipSearchException">It would listen beyond loopback without a token, or the start model cannot be loaded.</exception>
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // The web project's name, also when the host is the CLI: static web assets are found by it.
            ApplicationName = typeof(WebApp).Assembly.GetName().Name,
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        // Blazor's script and the CSS are static web assets; outside Development they are only found through the
        // build's manifest when asked for explicitly (`./clipsearch serve` runs from a build, not a publish).
        builder.WebHost.UseStaticWebAssets();
        var urls = builder.Configuration["urls"];
        if (string.IsNullOrWhiteSpace(urls))
        {
            urls = ClipSearchOptions.DefaultUrl;
            builder.WebHost.UseUrls(urls);
        }

        // One line per request is too much for a local tool (and costs throughput): framework logs from warnings up.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Its keys (see AddServices) sit unencrypted in the user's own folder, as they would in ~/.aspnet: Linux has
        // no key encryptor to offer, and a warning about it on every first start would only alarm.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);
        AddServices(builder.Services, builder.Configuration);
        var app = builder.Build();
        var options = app.Services.GetRequiredService<IOptions<ClipSearchOptions>>().Value;
        // Budgets too small for one image at the limits stop the start with their one-line message.
        _ = app.Services.GetRequiredService<ImageDecoding>();
        _ = app.Services.GetRequiredService<UploadBudget>();
        app.Services.GetRequiredService<ServerPaths>().CheckRoots();
        var immichClients = options.Immich.Enabled ? options.Immich.CheckedClients() : null;
        ListenRules.CheckUrls(urls, options.Token);
        Configure(app, options, immichClients);
        if (!string.IsNullOrWhiteSpace(options.ModelPath))
        {
            // Before the server listens: a bad folder stops the start with its one-line message.
            app.Services.GetRequiredService<ModelHost>().LoadAsync(options.ModelPath, options.Variant, options.Threads).GetAwaiter().GetResult();
        }

        // A library that cannot be opened stops the start with its message, too.
        app.Services.GetRequiredService<LibraryHost>().OpenAsync().GetAwaiter().GetResult();
        return app;
    }

    /// <summary>
    /// Starts <paramref name="app"/> and checks what it actually listens on; any failure to listen (address in use,
    /// a configured endpoint beyond loopback without a token, an https endpoint without a certificate) is a
    /// <see cref="Core.ClipSearchException"/> with one line, and leaves nothing listening.
    /// </summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Core.ClipSearchException)
        {
            throw;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or NotSupportedException or System.Net.Sockets.SocketException)
        {
            throw new Core.ClipSearchException($"Cannot listen on {string.Join(", ", ListenRequests(app))}: {e.Message}", e);
        }

        try
        {
            ListenRules.CheckBound(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>(), app.Services.GetRequiredService<IOptions<ClipSearchOptions>>().Value.Token);
        }
        catch (Core.ClipSearchException)
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private static IEnumerable<string> ListenRequests(WebApplication app)
    {
        var configuration = app.Services.GetRequiredService<IConfiguration>();
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>().ToList();
        return endpoints.Count > 0 ? endpoints : [configuration["urls"] ?? ClipSearchOptions.DefaultUrl];
    }

    private static void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClipSearchOptions>().Bind(configuration.GetSection(ClipSearchOptions.Section))
            .PostConfigure(o => o.Token = string.IsNullOrEmpty(o.Token) ? Environment.GetEnvironmentVariable(ClipSearchOptions.TokenVariable) : o.Token);
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<ClipSearchOptions>>((kestrel, o) =>
        {
            kestrel.Limits.MaxRequestBodySize = o.Value.MaxRequestBytes;
            // Every endpoint Kestrel binds, from --urls or any configuration source (Kestrel:Endpoints), is checked.
            kestrel.ConfigureEndpointDefaults(endpoint => ListenRules.CheckEndpoint(endpoint, o.Value.Token));
        });
        services.AddOptions<FormOptions>().Configure<IOptions<ClipSearchOptions>>((form, o) =>
            form.MultipartBodyLengthLimit = o.Value.MaxRequestBytes);
        services.ConfigureHttpJsonOptions(json =>
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase)));

        // Before the default writer: errors on OpenAI's routes (/v1/…) are written in OpenAI's shape, all others as RFC 7807.
        services.AddSingleton<Microsoft.AspNetCore.Http.IProblemDetailsWriter, OpenAiErrors>();
        // Chinese stays readable in the HTML instead of becoming character references.
        services.AddWebEncoders(o => o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = c =>
            c.ProblemDetails.Detail ??= ProblemMapping.DefaultDetail(c.ProblemDetails.Status ?? c.HttpContext.Response.StatusCode, c.HttpContext,
                c.HttpContext.RequestServices.GetRequiredService<IOptions<ClipSearchOptions>>().Value));
        // A body the framework cannot bind (bad JSON, too large) is thrown to ProblemMapping, which says why.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ProblemMapping>();
        services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "ClipSearch API";
            document.Info.Description = "OpenAI CLIP ViT-B/32 on your machine: embeddings, image–text matching, zero-shot classification, search. Errors are RFC 7807 problem details (400 bad input, 401 token missing, 403 unknown host, cross-site request or folder outside --allow-root, 409 busy, 413 too large, 415 wrong content type or charset, 503 no model loaded). Scripts send no Origin and pass; pages of other sites are refused.";
            return Task.CompletedTask;
        }));
        services.AddRazorComponents().AddInteractiveServerComponents();
        // Blazor's antiforgery tokens and circuit state are protected with keys kept in ClipSearch's home
        // (HOME/keys), not in ~/.aspnet: everything the server writes lives in one folder the user knows.
        services.AddDataProtection();
        services.AddOptions<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>().Configure<AppFolders, ILoggerFactory>((keys, folders, logs) =>
            keys.XmlRepository = new Microsoft.AspNetCore.DataProtection.Repositories.FileSystemXmlRepository(KeysFolder(folders.Keys), logs));

        services.AddSingleton<ServerAddresses>();
        services.AddSingleton<ServerPaths>();
        services.AddSingleton<ModelHost>();
        services.AddSingleton<ImageDecoding>();
        services.AddSingleton<UploadBudget>();
        services.AddSingleton<AppFolders>();
        services.AddSingleton<ModelDownloads>();
        services.AddSingleton<ZeroShotLabels>();
        services.AddSingleton<PresetWarmer>();
        services.AddHostedService(sp => sp.GetRequiredService<PresetWarmer>());
        services.AddSingleton<EmbeddingBatcher>();
        services.AddSingleton<LibraryHost>();
        // With a photo library, search looks there; without, in the images uploaded this session.
        services.AddSingleton<SessionImageLibrary>();
        services.AddSingleton<LibraryImageSearch>();
        services.AddSingleton<LibraryDuplicates>();
        services.AddSingleton<IImageSearch>(sp => string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<ClipSearchOptions>>().Value.Library)
            ? sp.GetRequiredService<SessionImageLibrary>()
            : sp.GetRequiredService<LibraryImageSearch>());
        services.AddSingleton<ClipService>();
        services.AddSingleton<ModelNames>();
        services.AddSingleton<RemoteImages>();
        services.AddLocalization(o => o.ResourcesPath = Localization.Ui.ResourcesPath);
        services.AddScoped<Localization.Ui>();
    }

    // The keys are kept unencrypted (Linux offers no key encryptor): their folder is the user's alone.
    private static DirectoryInfo KeysFolder(string path) => OperatingSystem.IsWindows()
        ? Directory.CreateDirectory(path)
        : Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    private static void Configure(WebApplication app, ClipSearchOptions options, ClientNetworks? immichClients)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<BrowserGuard>(options);
        // The routes that answer listed clients without the token (Immich's), before the token gate.
        app.UseMiddleware<ClientGate>();
        if (!string.IsNullOrEmpty(options.Token))
        {
            app.UseMiddleware<TokenGate>(options.Token);
        }

        app.UseMiddleware<RequestLimits>(options);

        app.UseRequestLocalization(new RequestLocalizationOptions()
            .SetDefaultCulture(Cultures[0])
            .AddSupportedCultures(Cultures)
            .AddSupportedUICultures(Cultures));
        app.UseAntiforgery();

        app.MapStaticAssets();
        app.MapOpenApi();
        app.MapScalarApiReference();
        app.MapModelApi().MapImageTextApi().MapClassifyApi().MapSearchApi().MapImagesApi().MapLibraryApi().MapBrowseApi().MapDuplicatesApi().MapHealthApi().MapOpenAiApi();
        if (immichClients is not null)
        {
            app.MapImmichApi(immichClients);
        }

        app.MapGet("/culture/{culture}", SetCulture).ExcludeFromDescription();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }

    // The language switch: remembers the choice in the standard culture cookie, then goes back (a path on this server only).
    private static IResult SetCulture(string culture, string? redirect, HttpContext context)
    {
        var chosen = Cultures.FirstOrDefault(c => c.Equals(culture, StringComparison.OrdinalIgnoreCase)) ?? Cultures[0];
        context.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
            CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(CultureInfo.GetCultureInfo(chosen))),
            new CookieOptions { MaxAge = TimeSpan.FromDays(365), SameSite = SameSiteMode.Lax, IsEssential = true });
        return Results.Redirect(LocalPath.OrRoot(redirect));
    }
}
