using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Agent.Services;

/// <summary>
/// New samples and labels, from MQTT, a folder or the camera, and what each sets off: an unlabelled
/// sample is predicted (published on <c>metrics/prediction</c>) and feeds the drift monitor; a
/// labelled one may complete the cold-start set; either may complete the rows an int8 backbone's gate was waiting for. Bad images and unknown labels are refused before storing.
/// </summary>
public sealed class SampleIntake
{
    private readonly Lock _gate = new();
    private readonly ModelServing _serving;
    private readonly AgentStore _store;
    private readonly SampleFeatures _samples;
    private readonly DriftMonitor _drift;
    private readonly ColdStartService _coldStart;
    private readonly Int8RecheckService _int8;
    private readonly MetricsPublisher _metrics;

    /// <summary>Creates the intake.</summary>
    public SampleIntake(ModelServing serving, AgentStore store, SampleFeatures samples, DriftMonitor drift, ColdStartService coldStart, Int8RecheckService quantizedCheck,
        MetricsPublisher metrics)
    {
        _int8 = quantizedCheck;
        _serving = serving;
        _store = store;
        _samples = samples;
        _drift = drift;
        _coldStart = coldStart;
        _metrics = metrics;
    }

    /// <summary>Stores one sample and acts on it; returns its id and, for an unlabelled sample that could be predicted, the prediction.</summary>
    public (long SampleId, ServedPrediction? Prediction) Ingest(byte[] image, string? label, string domain, string origin)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (string.IsNullOrWhiteSpace(domain) || domain.Length > 64)
            throw new InvalidCommandArgumentsException("args.domain must be a name of 1–64 characters.");
        RequireKnown(label);
        var server = _serving.Server;
        float[]? features = null;
        if (server.Model is not null)
        {
            features = _samples.ExtractOrRefuse([image]);
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
        lock (_gate)
            id = _store.Samples.Add(image, label, domain, origin);
        ServedPrediction? prediction = null;
        if (features is not null && label is null && _serving.CanPredict)
        {
            prediction = server.Predict(features, 1)[0];
            _metrics.Publish(MetricKinds.Prediction, new PredictionEvent(id, domain, SampleFeatures.ToWire(prediction)), ProtocolJson.Default.PredictionEvent);
            _drift.Observe(features, prediction.ClassIndex);
        }
        if (label is not null)
            _coldStart.MaybeStart();
        _int8.MaybeStart();
        return (id, prediction);
    }

    /// <summary>Labels sample <paramref name="sampleId"/>; false when there is no such sample.</summary>
    public bool Label(long sampleId, string label)
    {
        RequireKnown(label);
        bool found;
        lock (_gate)
            found = _store.Samples.SetLabel(sampleId, label);
        if (found)
            _coldStart.MaybeStart();
        return found;
    }

    private void RequireKnown(string? label)
    {
        if (label is not null && _serving.Classes is { } classes && !classes.Contains(label))
            throw new InvalidCommandArgumentsException($"args.label '{label}' is not one of the device's classes ({string.Join(", ", classes)}).");
    }
}
