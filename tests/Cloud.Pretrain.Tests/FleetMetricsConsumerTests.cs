using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using EdgeTL.Cloud.Fleet;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeTL.Cloud.Tests;

public sealed class FleetMetricsConsumerTests
{
    [Fact]
    public async Task TwoConsumersInOneShareGroup_SplitTheMetrics_EachHandledExactlyOnce()
    {
        using var broker = new Mosquitto();
        var seen = new ConcurrentDictionary<string, int>();
        var handledBy = new ConcurrentDictionary<string, string>();
        Func<FleetMetric, CancellationToken, Task> Handler(string name) => (metric, _) =>
        {
            string id = Encoding.UTF8.GetString(metric.Payload.Span);
            seen.AddOrUpdate(id, 1, (_, n) => n + 1);
            handledBy[id] = name;
            Assert.Equal("metrics", metric.Topic.Split('/')[3]);
            return Task.CompletedTask;
        };
        var options = new FleetMetricsConsumerOptions { Port = broker.Port, Fleet = "plant", ShareGroup = "cloud" };
        await using var a = new FleetMetricsConsumer(options, Handler("a"));
        await using var b = new FleetMetricsConsumer(options, Handler("b"));
        await a.StartAsync();
        await b.StartAsync();

        using var device = new MqttClientFactory().CreateMqttClient();
        await device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithProtocolVersion(MqttProtocolVersion.V500).Build());
        const int count = 500;
        for (int i = 0; i < count; i++)
        {
            string topic = $"edgetl/plant/dev{i % 7}/metrics/{(i % 2 == 0 ? "training" : "drift")}";
            await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(i.ToString(CultureInfo.InvariantCulture))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }
        // Neither another fleet nor a non-metrics topic reaches the consumers.
        await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edgetl/other/dev1/metrics/training").WithPayload("x").Build());
        await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edgetl/plant/dev1/state").WithPayload("y").Build());

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (seen.Count < count && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        await Task.Delay(300);   // a duplicate would arrive now
        await device.DisconnectAsync();

        Assert.Equal(count, seen.Count);
        Assert.All(seen, kv => Assert.Equal(1, kv.Value));
        Assert.Equal(count, a.Handled + b.Handled);
        Assert.True(a.Handled > 0 && b.Handled > 0, $"both consumers should get some: a {a.Handled}, b {b.Handled}");
        Assert.DoesNotContain("x", seen.Keys);
        Assert.DoesNotContain("y", seen.Keys);
    }
}
