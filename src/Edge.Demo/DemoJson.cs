using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeTL.Demo;

/// <summary>Source-generated JSON for the demo summary.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(DemoSummary))]
internal sealed partial class DemoJson : JsonSerializerContext;
