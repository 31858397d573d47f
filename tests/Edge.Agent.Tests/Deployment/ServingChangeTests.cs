using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Services;
using EdgeTL.Agent.Serving;
using EdgeTL.Protocol.Commands;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeTL.Agent.Tests.Deployment;

/// <summary>
/// The rule behind a job's promotion (the MQTT path is in <c>RollbackDuringJobTests</c>): a job judges and swaps only while
/// what it began on still serves, and a rollback never holds the command loop behind a change in progress for longer than
/// <see cref="DeploymentService.RollbackWait"/>.
/// </summary>
public sealed class ServingChangeTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-serving-").FullName;
    private readonly ServiceProvider _services;

    public ServingChangeTests() =>
        _services = new ServiceCollection()
            .AddSingleton(new AgentOptions { Device = "serving-1", DataDirectory = _dir, TrustedKeysDirectory = Path.Combine(_dir, "keys") })
            .AddAgentCore()
            .BuildServiceProvider();

    [Fact]
    public void A_decision_runs_only_while_what_the_job_began_on_serves_and_any_swap_since_refuses_it()
    {
        var updates = _services.GetRequiredService<ServingUpdates>();
        var server = _services.GetRequiredService<ModelServer>();
        var begunOn = updates.Identity();
        Assert.Equal(1, updates.WhileUnchanged(begunOn, "the test job", () => 1));

        server.ReplaceHead(null);   // what a rollback does: the same folder and head id (none) can serve again, but it is another swap
        bool ran = false;
        var refused = Assert.Throws<AgentException>(() => updates.WhileUnchanged(begunOn, "the test job", () => ran = true));
        Assert.Equal(AgentErrorCode.ModelChanged, refused.Code);
        Assert.False(ran);
        Assert.Contains("the test job", refused.Message, StringComparison.Ordinal);
        Assert.NotEqual(begunOn, updates.Identity());
    }

    [Fact]
    public async Task A_rollback_behind_a_change_in_progress_answers_busy_instead_of_holding_the_command_loop()
    {
        var serving = _services.GetRequiredService<ModelServing>();
        var deployment = _services.GetRequiredService<DeploymentService>();
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var change = Task.Run(() => serving.Exclusively(() =>
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(30));   // a rollback that blocked behind it would get through only after this, and not as busy
            return 0;
        }));
        entered.Wait();

        var behind = deployment.RollBackHead(new CommandEnvelope("rollback-behind-1", CommandNames.Rollback, DateTimeOffset.UtcNow));
        Assert.Equal(CommandStatus.Busy, behind.Status);
        Assert.Contains("nothing was rolled back", behind.Message, StringComparison.Ordinal);

        release.Set();
        await change;
        var after = deployment.RollBackHead(new CommandEnvelope("rollback-after-1", CommandNames.Rollback, DateTimeOffset.UtcNow));
        Assert.Equal(CommandStatus.Failed, after.Status);   // it ran: there is no earlier head to return to
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
