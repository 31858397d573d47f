using System.Reflection;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Tests.Issues;

/// <summary>
/// Issue 16, defect 7: log lines carried event ids like <c>[1113842211]</c> (the source generator's
/// hash of a method name). Every log message of the device binary now has an id that means
/// something: unique, and in its area's range (1xxx broker and outbox, 2xxx commands, 3xxx
/// deployment, 4xxx learning and drift, 5xxx samples and sensors, 6xxx ONNX Runtime, 9xxx host).
/// </summary>
public sealed class Issue16LoggingTests
{
    [Fact]
    public void Event_ids_like_1113842211_meant_nothing()
    {
        var messages = new[] { typeof(EdgeAgent).Assembly, typeof(Runtime.Onnx.OnnxSessionFactory).Assembly }
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();
        Assert.True(messages.Count >= 20, $"found only {messages.Count} log messages");
        foreach (var (method, attribute) in messages)
        {
            Assert.True(attribute!.EventId is >= 1000 and < 10_000, $"{method} has event id {attribute.EventId}: give it one in its area's range");
            Assert.False(string.IsNullOrEmpty(attribute.EventName), $"{method} has no event name");
        }
        var duplicates = messages.GroupBy(m => m.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}").ToList();
        Assert.True(duplicates.Count == 0, "event ids used twice: " + string.Join("; ", duplicates));
    }
}
