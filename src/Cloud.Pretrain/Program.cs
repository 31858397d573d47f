using EdgeTL.Cloud;

return await CloudCli.Build().Parse(args).InvokeAsync().ConfigureAwait(false);
