using ClipSearch.Web;

var app = WebApp.Build(args);
await WebApp.StartAsync(app);
await app.WaitForShutdownAsync();
