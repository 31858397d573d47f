using System.Text;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Reliability.Tests.Security;

/// <summary>The control for <see cref="RefusedIdentityTests"/>: the same broker and settings, nothing wrong.</summary>
[Collection(SecureBrokerGroup.Name)]
public sealed class ValidIdentityTests(SecureBroker broker)
{
    [Fact]
    public async Task A_valid_device_connects_and_exchanges_messages_on_its_own_topics()
    {
        const string device = "dev-good";
        var topics = new DeviceTopics(SecureBroker.Fleet, device);
        var mark = broker.Broker.Log.Count;
        await using var cloud = await SecureConnections.ConnectAsync(broker, SecureBroker.Cloud, [$"{topics.DevicePrefix}/#"]);
        await using var agent = await SecureConnections.ConnectAsync(broker, device, [topics.CommandFilter]);

        var metric = Encoding.UTF8.GetBytes($"{{\"loss\":{Random.Shared.Next()}}}");
        Assert.True(await agent.PublishAsync(topics.Metrics("training"), metric, retain: false), "the broker did not acknowledge the device's metric");
        var seen = await SecureConnections.ReceiveAsync(cloud, topics.Metrics("training"));
        Assert.Equal(metric, seen.Payload);

        var command = Encoding.UTF8.GetBytes($"{{\"id\":\"{Guid.NewGuid():N}\",\"name\":\"status\"}}");
        Assert.True(await cloud.PublishAsync(topics.Command("status"), command, retain: false), "the broker did not acknowledge the cloud's command");
        var received = await SecureConnections.ReceiveAsync(agent, topics.Command("status"));
        Assert.Equal(command, received.Payload);

        Assert.Equal(1, agent.ConnectCount);
        Assert.Equal(1, SecureMosquitto.Accepted(broker.Broker.LogSince(mark), SecureBroker.ClientId(device)));
    }
}
