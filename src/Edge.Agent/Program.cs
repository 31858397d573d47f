using EdgeTL.Agent.Hosting;

return await AgentCli.Build().Parse(args).InvokeAsync().ConfigureAwait(false);
