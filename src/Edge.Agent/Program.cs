using EdgeTL.Agent.Hosting;

return await AgentCommandLine.InvokeAsync(args).ConfigureAwait(false);
