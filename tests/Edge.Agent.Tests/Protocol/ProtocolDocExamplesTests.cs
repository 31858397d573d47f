using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Agent.Tests.Integration;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Agent.Tests.Protocol;

/// <summary>
/// docs/protocol.md is the operator's contract: every example envelope in it is sent, in the order
/// of the document, to a real agent over MQTT, and must get the status written under it.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class ProtocolDocExamplesTests(DeploymentPackages packages) : IDisposable
{
    private const string Fleet = "plant-7";
    private const string Device = "cam-3";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private static readonly Dictionary<string, int> ImageClasses = new(StringComparer.Ordinal)
    {
        ["tshirt.png"] = 0, ["trouser.png"] = 1, ["pullover.png"] = 2, ["dress.png"] = 3, ["coat.png"] = 4,
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-protocol-doc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_command_and_status_a_sender_can_provoke_has_an_example_and_every_json_block_is_json()
    {
        var (blocks, examples) = ProtocolDoc.Read(File.ReadAllText(ProtocolDoc.Path));
        foreach (var (line, json) in blocks)
        {
            string text = ProtocolDoc.Substitute(json, DateTimeOffset.UtcNow, _ => [1, 2, 3], "/tmp");
            try
            {
                JsonDocument.Parse(text).Dispose();
            }
            catch (JsonException e)
            {
                Assert.Fail($"docs/protocol.md:{line}: the json block is not JSON ({e.Message}).");
            }
        }
        var names = examples.Select(e => JsonNode.Parse(ProtocolDoc.Substitute(e.Envelope, DateTimeOffset.UtcNow, _ => [1], "/tmp"))!["name"]!.GetValue<string>()).ToHashSet();
        Assert.Empty(CommandNames.All.Except(names));
        var statuses = examples.SelectMany(e => new[] { e.First, e.Final }).OfType<string>().ToHashSet();
        string[] unshowable = ["tooLarge", "wrongDevice", "interrupted"];   // the document says why
        var all = Enum.GetValues<CommandStatus>().Select(s => JsonNamingPolicy.CamelCase.ConvertName(s.ToString())).ToList();
        Assert.Empty(statuses.Except(all));
        Assert.Empty(all.Except(unshowable).Except(statuses));
        foreach (var example in examples.Where(e => e.First == "accepted"))
            Assert.True(example.Final is not null, $"docs/protocol.md:{example.Line}: 'accepted' is never final; write 'accepted, then S'.");
    }

    [Fact]
    public async Task Every_example_envelope_gets_the_documented_status_from_a_running_agent()
    {
        var (_, examples) = ProtocolDoc.Read(File.ReadAllText(ProtocolDoc.Path));
        Assert.True(examples.Count >= 30, $"only {examples.Count} examples were found in docs/protocol.md");
        packages.Sign(packages.First, "fmnist-1.1.0", counter: 1);
        packages.Sign(packages.Second, "fmnist-1.2.0", counter: 2);
        foreach (var name in new[] { "fmnist-1.1.0.tar", "fmnist-1.2.0.tar" })
            File.Copy(Path.Combine(packages.Root, name), Path.Combine(_dir, name));
        var images = SampleImages.FirstFiveClasses(perClass: 4, seed: 11);
        byte[] Image(string file)
        {
            int label = ImageClasses.TryGetValue(file, out int c) ? c : throw new InvalidOperationException($"No image for {file}: use one of {string.Join(", ", ImageClasses.Keys)}.");
            return SampleImages.Png(images, Array.IndexOf(images.Labels, label));
        }

        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, Fleet, Device);   // also checks every payload against the schemas
        await using var harness = new AgentHarness(packages.Key, broker.Port, Device, o => o with { Fleet = Fleet });
        await harness.StartAsync();
        var topics = new DeviceTopics(Fleet, Device);
        var pending = new List<(ProtocolDoc.Example Example, string Id, int Seen)>();
        var prepared = new HashSet<string>(StringComparer.Ordinal);

        foreach (var example in examples)
        {
            string json = ProtocolDoc.Substitute(example.Envelope, DateTimeOffset.UtcNow, Image, _dir);
            var envelope = JsonNode.Parse(json)!.AsObject();
            string id = envelope["id"]!.GetValue<string>();
            string name = envelope["name"]!.GetValue<string>();
            if (prepared.Add(name))
                await PrepareAsync(cloud, name);
            string where = $"docs/protocol.md:{example.Line} ({id})";

            int seen = cloud.Results(id).Count;
            await cloud.PublishAsync(topics.Command(name), Encoding.UTF8.GetBytes(json));
            var first = await NextAsync(cloud, id, seen, where);
            Assert.True(Status(first) == example.First, $"{where}: documented '{example.First}', the agent answered {first.ToJsonString()}");
            if (example.Final is not null)
            {
                if (example.FinalAfter is null)
                    AssertFinal(example, await NextAsync(cloud, id, seen + 1, where), where);
                else
                    pending.Add((example, id, seen + 1));
            }
            foreach (var waiting in pending.Where(p => p.Example.FinalAfter == id).ToList())
            {
                AssertFinal(waiting.Example, await NextAsync(cloud, waiting.Id, waiting.Seen, $"docs/protocol.md:{waiting.Example.Line} ({waiting.Id})"), $"docs/protocol.md:{waiting.Example.Line} ({waiting.Id})");
                pending.Remove(waiting);
            }
        }
        Assert.True(pending.Count == 0, $"'(after ID)' names no later example: {string.Join(", ", pending.Select(p => p.Id))}");
    }

    /// <summary>
    /// What the document says happened between its examples: a few labelled samples of each class
    /// before the first fine-tune, and unlabelled target samples before the first adaptation.
    /// </summary>
    private static async Task PrepareAsync(TestClient cloud, string name)
    {
        var args = name switch
        {
            CommandNames.Finetune => Enumerable.Range(0, 15).Select(i => SampleImages.IngestArgs(SampleImages.FirstFiveClasses(3, seed: 5), i, labelled: true, domain: "source")),
            CommandNames.Adapt => Enumerable.Range(0, 12).Select(i => SampleImages.IngestArgs(SampleImages.Inverted(SampleImages.FirstFiveClasses(3, seed: 6)), i, labelled: false, domain: "target")),
            _ => [],
        };
        foreach (var ingest in args)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync(Fleet, Device, CommandNames.Ingest, ingest), Wait), "ok");
    }

    private static void AssertFinal(ProtocolDoc.Example example, JsonObject final, string where) =>
        Assert.True(Status(final) == example.Final, $"{where}: documented 'accepted, then {example.Final}', the final result was {final.ToJsonString()}");

    private static string Status(JsonObject result) => result["status"]!.GetValue<string>();

    /// <summary>The result of <paramref name="id"/> after the first <paramref name="seen"/> (earlier sends of the same id).</summary>
    private static Task<JsonObject> NextAsync(TestClient cloud, string id, int seen, string where) =>
        TestClient.WaitAsync(() => cloud.Results(id) is { } r && r.Count > seen ? r[seen] : null, Wait, $"{where}: result {seen + 1} on result/{id}");
}
