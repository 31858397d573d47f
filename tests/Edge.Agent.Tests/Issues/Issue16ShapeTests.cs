using System.Reflection;
using EdgeTL.Agent.Handlers;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeTL.Agent.Tests.Issues;

/// <summary>
/// Issue 16, the agent's shape: one class of ~1,200 lines in eight partial files held every field,
/// lock, loop and payload; the demo and the controller client shipped in the device binary. Now the
/// agent is services and one handler per command, composed in <see cref="AgentModule"/>.
/// </summary>
public sealed class Issue16ShapeTests
{
    private const int MaxLines = 300;
    private static readonly Assembly Agent = typeof(EdgeAgent).Assembly;

    [Fact]
    public void No_source_file_of_the_agent_is_over_300_lines()
    {
        string root = Path.Combine(OptionKeys.RepoRoot(), "src", "Edge.Agent");
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.True(files.Count > 50, $"found only {files.Count} source files under {root}");
        var tooLong = files.Select(f => (File: Path.GetRelativePath(root, f), Lines: File.ReadLines(f).Count())).Where(f => f.Lines > MaxLines).ToList();
        Assert.True(tooLong.Count == 0, "over 300 lines: " + string.Join(", ", tooLong.Select(f => $"{f.File} ({f.Lines})")));
    }

    [Fact]
    public void Every_command_has_one_handler_and_no_handler_depends_on_MQTTnet()
    {
        var handlers = Agent.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ICommandHandler).IsAssignableFrom(t)).ToList();
        Assert.Equal(CommandNames.All.Count, handlers.Count);
        foreach (var handler in handlers)
        {
            var dependencies = handler.GetConstructors().SelectMany(c => c.GetParameters()).Select(p => p.ParameterType)
                .Concat(handler.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public).Select(f => f.FieldType)).ToList();
            Assert.True(dependencies.Count > 0, $"{handler.Name} takes no services");
            foreach (var type in dependencies)
            {
                Assert.False(type.Assembly.GetName().Name!.StartsWith("MQTTnet", StringComparison.Ordinal), $"{handler.Name} depends on {type.FullName}");
                Assert.False(type == typeof(MqttConnection) || type == typeof(EmbeddedBroker), $"{handler.Name} depends on the broker connection ({type.Name})");
                Assert.False(type == typeof(IServiceProvider), $"{handler.Name} looks its services up instead of taking them");
            }
        }
    }

    [Fact]
    public async Task The_composition_root_gives_each_command_its_handler()
    {
        using var dir = new TempDirectory();
        await using var services = new ServiceCollection()
            .AddSingleton(new AgentOptions { Device = "shape-1", DataDirectory = dir.Path, TrustedKeysDirectory = Path.Combine(dir.Path, "keys") })
            .AddAgentCore()
            .BuildServiceProvider();
        var names = services.GetServices<ICommandHandler>().Select(h => h.Name).ToList();
        Assert.Equal(CommandNames.All.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.Same(services.GetRequiredService<Services.CommandDispatcher>(), services.GetRequiredService<Services.CommandDispatcher>());
    }

    [Fact]
    public void The_device_binary_holds_neither_the_demo_nor_the_controller_client()
    {
        var names = Agent.GetTypes().Select(t => t.FullName!).ToList();
        Assert.DoesNotContain(names, n => n.Contains(".Demo", StringComparison.Ordinal) || n.EndsWith(".AgentClient", StringComparison.Ordinal) || n.EndsWith(".DemoRunner", StringComparison.Ordinal));
        Assert.DoesNotContain(Agent.GetReferencedAssemblies(), a => a.Name == "edgetl-demo");
        Assert.False(File.Exists(Path.Combine(OptionKeys.RepoRoot(), "src", "Edge.Agent", "Messaging", "AgentClient.cs")));
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("edgetl-shape-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
