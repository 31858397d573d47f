using System.Text;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Reliability.Tests.Security;

/// <summary>
/// RELIABILITY.md R11, wrong-tenant topics: a device with valid credentials reaches only its own
/// topics. Device A writes to device B's topics and subscribes to them; the broker's ACL must
/// refuse every write and deliver nothing of B's to A.
/// </summary>
[Collection(SecureBrokerGroup.Name)]
public sealed class TenantIsolationTests(SecureBroker broker)
{
    [Fact]
    public async Task A_device_can_neither_write_nor_read_another_devices_topics()
    {
        var a = new DeviceTopics(SecureBroker.Fleet, "dev-a");
        var b = new DeviceTopics(SecureBroker.Fleet, "dev-b");
        await using var cloud = await SecureConnections.ConnectAsync(broker, SecureBroker.Cloud, [$"{b.DevicePrefix}/#"]);
        await using var deviceB = await SecureConnections.ConnectAsync(broker, b.Device, [b.CommandFilter]);
        await using var deviceA = await SecureConnections.ConnectAsync(broker, a.Device, [a.CommandFilter, $"{b.DevicePrefix}/#", $"{DeviceTopics.Root}/{a.Fleet}/+/cmd/+"]);

        // A's attempts on B's topics (and on the fleet's deploy topic, which only the cloud writes).
        var forged = Encoding.UTF8.GetBytes($"{{\"id\":\"forged-{Guid.NewGuid():N}\",\"name\":\"reboot\"}}");
        string[] targets = [b.Command("reboot"), b.Result("forged"), b.Metrics("training"), b.State, b.GroupDeploy("all")];
        var acknowledged = 0;
        foreach (var topic in targets)
            acknowledged += await deviceA.PublishAsync(topic, forged, retain: false) ? 1 : 0;

        // B's own traffic, which A must not see: a command from the cloud, and B's metric.
        var command = Encoding.UTF8.GetBytes($"{{\"id\":\"{Guid.NewGuid():N}\",\"name\":\"status\"}}");
        Assert.True(await cloud.PublishAsync(b.Command("status"), command, retain: false));
        Assert.True(await deviceB.PublishAsync(b.Metrics("training"), Encoding.UTF8.GetBytes("{\"loss\":1}"), retain: false));
        // Controls: B gets its command, the cloud sees B's metric, A still gets its own command.
        List<IncomingMessage> atA = [], atB = [], atCloud = [];
        await SecureConnections.ReceiveAsync(deviceB, b.Command("status"), atB);
        await SecureConnections.ReceiveAsync(cloud, b.Metrics("training"), atCloud);
        Assert.True(await cloud.PublishAsync(a.Command("status"), command, retain: false));
        await SecureConnections.ReceiveAsync(deviceA, a.Command("status"), atA);
        await Task.Delay(300);   // anything the broker wrongly let through has had time to arrive
        SecureConnections.Drain(deviceA, atA);
        SecureConnections.Drain(deviceB, atB);
        SecureConnections.Drain(cloud, atCloud);

        var forgedAtB = atB.Count(m => m.Payload.SequenceEqual(forged));
        var forgedAtCloud = atCloud.Count(m => m.Payload.SequenceEqual(forged));
        var bsMessagesAtA = atA.Count(m => m.Topic.StartsWith(b.DevicePrefix + "/", StringComparison.Ordinal));

        Assert.True(acknowledged == 0, $"the broker acknowledged {acknowledged} of {targets.Length} writes to another tenant's topics");
        Assert.True(forgedAtB == 0, $"device B received {forgedAtB} forged commands");
        Assert.True(forgedAtCloud == 0, $"{forgedAtCloud} forged messages were delivered on B's topics");
        Assert.True(bsMessagesAtA == 0, $"device A received {bsMessagesAtA} of B's messages");
    }
}
