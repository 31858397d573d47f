using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Handlers;
using EdgeTL.Agent.Jobs;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Services;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Topics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// The agent's composition root: the infrastructure (store, broker connection, outbox drain, model
/// server, job runner), the services, and one <see cref="ICommandHandler"/> per command, all
/// singletons. The Generic Host registers them through <see cref="AgentHost.AddEdgeAgent"/>; an
/// agent without a host (<c>new EdgeAgent(options)</c>: tests, the demo) builds its own provider here.
/// </summary>
public static class AgentModule
{
    /// <summary>
    /// Registers the agent. <see cref="AgentOptions"/> must be registered; a <see cref="TimeProvider"/>
    /// and an <see cref="ILoggerFactory"/> are added when missing (the system clock, no logging).
    /// </summary>
    public static IServiceCollection AddAgentCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.TryAdd(ServiceDescriptor.Singleton(typeof(ILogger<>), typeof(Logger<>)));

        // Infrastructure: what owns files, sockets and threads.
        services.AddSingleton(sp => Topics(sp.GetRequiredService<AgentOptions>()));
        services.AddSingleton(sp => OpenStore(sp.GetRequiredService<AgentOptions>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new MetricsPublisher(sp.GetRequiredService<AgentStore>().Outbox, sp.GetRequiredService<DeviceTopics>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<AgentOptions>();
            return new CommandDecoder(sp.GetRequiredService<DeviceTopics>(), o.MaxCommandBytes, sp.GetRequiredService<TimeProvider>(), o.MaxClockSkew, o.MaxCommandAge);
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<AgentOptions>();
            var topics = sp.GetRequiredService<DeviceTopics>();
            // Its own command topics and its group's desired state, nothing of other devices.
            return new MqttConnection(o.Broker, topics, [topics.CommandFilter, topics.GroupDeploy(o.Group)], sp.GetRequiredService<ILogger<MqttConnection>>());
        });
        services.AddSingleton(sp => new OutboxPublisher(sp.GetRequiredService<AgentStore>().Outbox, sp.GetRequiredService<MqttConnection>(),
            sp.GetRequiredService<ILogger<OutboxPublisher>>(), sp.GetRequiredService<AgentOptions>().OutboxWindow));
        services.AddSingleton<ModelServer>();
        services.AddSingleton<JobRunner>();

        // Services: state, policies and learning, each with the few services it needs.
        services.AddSingleton<SettingsService>();
        services.AddSingleton<ModelServing>();
        services.AddSingleton<TrainingGateService>();
        services.AddSingleton<StatePublisher>();
        services.AddSingleton<CommandResults>();
        services.AddSingleton<JobService>();
        services.AddSingleton<SampleFeatures>();
        services.AddSingleton<DriftMonitor>();
        services.AddSingleton<PromotionPolicy>();
        services.AddSingleton<ServingUpdates>();
        services.AddSingleton<ColdStartService>();
        services.AddSingleton<Int8RecheckService>();
        services.AddSingleton<SampleIntake>();
        services.AddSingleton<HeadTraining>();
        services.AddSingleton<BackboneTraining>();
        services.AddSingleton<LabelFreeAdaptation>();
        services.AddSingleton<AdaptationService>();
        services.AddSingleton<DeploymentService>();
        services.AddSingleton<TelemetryService>();
        services.AddSingleton<CommandDispatcher>();

        // One handler per command.
        services.AddSingleton<ICommandHandler, StatusHandler>();
        services.AddSingleton<ICommandHandler, DeployHandler>();
        services.AddSingleton<ICommandHandler, RollbackHandler>();
        services.AddSingleton<ICommandHandler, IngestHandler>();
        services.AddSingleton<ICommandHandler, LabelHandler>();
        services.AddSingleton<ICommandHandler, PredictHandler>();
        services.AddSingleton<ICommandHandler, EvaluateHandler>();
        services.AddSingleton<ICommandHandler, FinetuneHandler>();
        services.AddSingleton<ICommandHandler, AdaptHandler>();
        services.AddSingleton<ICommandHandler, SetConfigHandler>();
        services.AddSingleton<ICommandHandler, CancelHandler>();
        return services;
    }

    /// <summary>A provider for an agent without a host; <paramref name="options"/> are validated first.</summary>
    /// <exception cref="AgentException"><paramref name="options"/> are invalid (<see cref="AgentErrorCode.InvalidConfiguration"/>).</exception>
    internal static ServiceProvider Build(AgentOptions options, ILoggerFactory? loggers, TimeProvider? time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems();
        if (problems.Count > 0)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, "Invalid agent settings: " + string.Join(" ", problems));
        var services = new ServiceCollection();
        services.AddSingleton(options);
        if (loggers is not null)
            services.AddSingleton(loggers);
        if (time is not null)
            services.AddSingleton(time);
        return services.AddAgentCore().BuildServiceProvider();
    }

    private static DeviceTopics Topics(AgentOptions options) => new(options.Fleet, options.Device);

    private static AgentStore OpenStore(AgentOptions options, TimeProvider time)
    {
        Directory.CreateDirectory(options.DataDirectory);
        var store = new AgentStore(Path.Combine(options.DataDirectory, "agent.db"), time);
        store.Outbox.Capacity = options.OutboxCapacity;
        return store;
    }
}
