using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Agent;

/// <summary>Samples: <c>ingest</c>, <c>label</c>, <c>predict</c>, <c>evaluate</c>, and what each new sample sets off (predictions, drift, cold start).</summary>
public sealed partial class EdgeAgent
{
    private readonly Lock _sampleGate = new();

    /// <summary>The device's classes: <c>set-config</c>'s, else the deployed package's labels, else none yet.</summary>
    public IReadOnlyList<string>? Classes => Settings.Classes ?? Server.Model?.Installed.Manifest.Labels;

    private Task<CommandResult> IngestAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = ArgsOf(command, ProtocolJson.Default.IngestArgs);
        var (sampleId, prediction) = Ingest(args.Image, args.Label, args.Domain, "mqtt");
        var report = new IngestReport(sampleId, prediction is null ? null : ToWire(prediction));
        return Task.FromResult(Result(command, CommandStatus.Ok, $"Stored sample {sampleId}.", report, ProtocolJson.Default.IngestReport));
    }

    /// <summary>
    /// Stores one sample (from MQTT, a folder or the camera) and acts on it: an unlabelled sample
    /// is predicted (published on <c>metrics/prediction</c>) and feeds the drift monitor; a labelled
    /// one may complete the cold-start set. Bad images and unknown labels are refused before storing.
    /// </summary>
    public (long SampleId, ServedPrediction? Prediction) Ingest(byte[] image, string? label, string domain, string origin)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (string.IsNullOrWhiteSpace(domain) || domain.Length > 64)
            throw new InvalidCommandArgumentsException("args.domain must be a name of 1–64 characters.");
        if (label is not null && Classes is { } classes && !classes.Contains(label))
            throw new InvalidCommandArgumentsException($"args.label '{label}' is not one of the device's classes ({string.Join(", ", classes)}).");
        float[]? features = null;
        if (Server.Model is not null)
        {
            features = ExtractOrRefuse([image]);
        }
        else
        {
            try
            {
                new ImageDecoder().Decode(image);
            }
            catch (Runtime.EdgeRuntimeException e)
            {
                throw new InvalidCommandArgumentsException($"args.image is not a decodable image: {e.Message}");
            }
        }
        long id;
        lock (_sampleGate)
            id = Store.Samples.Add(image, label, domain, origin);
        ServedPrediction? prediction = null;
        if (features is not null && label is null && CanPredict)
        {
            prediction = Server.Predict(features, 1)[0];
            Metrics.Publish(MetricKinds.Prediction, new PredictionEvent(id, domain, ToWire(prediction)), ProtocolJson.Default.PredictionEvent);
            ObserveForDrift(features, prediction.ClassIndex);
        }
        if (label is not null)
            MaybeStartColdStart();
        return (id, prediction);
    }

    private bool CanPredict => Server.Head is not null || Server.Model?.Predictor is not null;

    private float[] ExtractOrRefuse(IReadOnlyList<byte[]> images)
    {
        try
        {
            return Server.Extract(images);
        }
        catch (Runtime.EdgeRuntimeException e) when (e.Code == Runtime.RuntimeErrorCode.UndecodableImage)
        {
            throw new InvalidCommandArgumentsException($"args.image is not a decodable image: {e.Message}");
        }
    }

    private Task<CommandResult> LabelAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = ArgsOf(command, ProtocolJson.Default.LabelArgs);
        long id = args.SampleId;
        string label = args.Label;
        if (Classes is { } classes && !classes.Contains(label))
            throw new InvalidCommandArgumentsException($"args.label '{label}' is not one of the device's classes ({string.Join(", ", classes)}).");
        bool found;
        lock (_sampleGate)
            found = Store.Samples.SetLabel(id, label);
        if (!found)
            return Task.FromResult(Result(command, CommandStatus.InvalidArguments, $"There is no sample {id}."));
        MaybeStartColdStart();
        return Task.FromResult(Result(command, CommandStatus.Ok, $"Sample {id} is now '{label}'."));
    }

    private Task<CommandResult> PredictAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = ArgsOf(command, ProtocolJson.Default.PredictArgs);
        var features = ExtractOrRefuse([args.Image]);
        var prediction = Server.Predict(features, 1)[0];
        return Task.FromResult(Result(command, CommandStatus.Ok, $"{prediction.Label} ({prediction.Confidence:P1})", ToWire(prediction), ProtocolJson.Default.Prediction));
    }

    private Task<CommandResult> EvaluateAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        string? domain = ArgsOf(command, ProtocolJson.Default.EvaluateArgs).Domain;
        var set = LabelledFeaturesOf(Store.Samples.Labelled(domain), cancellationToken);
        var features = set.Features;
        var predictions = Server.Predict(features, set.Count);
        int correct = predictions.Where((p, i) => p.Label == set.Classes[set.Labels[i]]).Count();
        double accuracy = (double)correct / set.Count;
        var report = new EvaluationReport(accuracy, set.Count, domain);
        Metrics.Publish(MetricKinds.Evaluation, report, ProtocolJson.Default.EvaluationReport);
        return Task.FromResult(Result(command, CommandStatus.Ok, $"Accuracy {accuracy:P1} on {set.Count} labelled samples.", report, ProtocolJson.Default.EvaluationReport));
    }

    /// <summary>Features of labelled samples, with labels as indices into <see cref="Classes"/>.</summary>
    private LabelledFeatures LabelledFeaturesOf(IReadOnlyList<SampleRecord> samples, CancellationToken cancellationToken)
    {
        var classes = Classes ?? throw new AgentException(AgentErrorCode.NoModel, "No model is deployed yet: send 'deploy' first.");
        var usable = samples.Where(s => s.Label is not null && classes.Contains(s.Label)).ToList();
        if (usable.Count == 0)
            throw new AgentException(AgentErrorCode.NotEnoughData, "There are no labelled samples of the device's classes.");
        var features = ExtractInBatches(usable.Select(s => s.Image).ToList(), cancellationToken);
        int dim = features.Length / usable.Count;
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        return new LabelledFeatures(features, [.. usable.Select(s => index[s.Label!])], dim, classes, [.. usable.Select(s => s.Id)]);
    }

    private float[] ExtractInBatches(List<byte[]> images, CancellationToken cancellationToken)
    {
        var all = new List<float>();
        for (int start = 0; start < images.Count; start += 64)
        {
            cancellationToken.ThrowIfCancellationRequested();
            all.AddRange(Server.Extract([.. images.Skip(start).Take(64)]));
        }
        return [.. all];
    }

    private static Prediction ToWire(ServedPrediction p) => new(p.Label, p.ClassIndex, p.Confidence, p.Model, p.HeadId);
}
