using ClipSearch.Cli;

return await CliApp.RunAsync(args);
