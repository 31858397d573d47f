using EdgeTL.Agent.Messaging;

namespace EdgeTL.Agent.Tests;

public sealed class AgentTopicsTests
{
    [Fact]
    public void Topics_follow_the_architecture_and_parse_back()
    {
        var topics = new DeviceTopics("plant-a", "jetson-07");
        Assert.Equal("edgetl/plant-a/jetson-07/cmd/deploy", topics.Command("deploy"));
        Assert.Equal("edgetl/plant-a/jetson-07/cmd/+", topics.CommandFilter);
        Assert.Equal("edgetl/plant-a/jetson-07/result/c-1", topics.Result("c-1"));
        Assert.Equal("edgetl/plant-a/jetson-07/metrics/training", topics.Metrics("training"));
        Assert.Equal("edgetl/plant-a/jetson-07/state", topics.State);
        Assert.Equal("edgetl/plant-a/group/line-2/deploy", topics.GroupDeploy("line-2"));
        Assert.True(topics.TryParseCommand("edgetl/plant-a/jetson-09/cmd/status", out var device, out var name));
        Assert.Equal(("jetson-09", "status"), (device, name));
        Assert.False(topics.TryParseCommand("edgetl/plant-a/jetson-07/result/x", out _, out _));
        Assert.False(topics.TryParseCommand("edgetl/plant-b/jetson-07/cmd/status", out _, out _));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("+")]
    [InlineData("#")]
    [InlineData("")]
    public void Names_with_topic_syntax_are_refused(string bad)
    {
        Assert.Throws<ArgumentException>(() => new DeviceTopics(bad, "d"));
        Assert.Throws<ArgumentException>(() => new DeviceTopics("f", "d").Result(bad));
    }
}
