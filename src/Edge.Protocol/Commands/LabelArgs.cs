using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>label</c>.</summary>
public sealed record LabelArgs
{
    /// <summary>The stored sample (its id from <c>ingest</c>).</summary>
    [Description("The sample id that ingest returned.")]
    [Range(1, long.MaxValue)]
    public required long SampleId { get; set; }

    /// <summary>Its class name: one of the device's classes.</summary>
    [Description("Class name: one of the device's classes (see status.classes).")]
    [Length(1, 128)]
    public required string Label { get; set; }
}
