using EdgeTL.Runtime.Features;

namespace EdgeTL.Agent.Serving;

/// <summary>
/// What the device serves now: the deployed package (frozen ONNX backbone, and its own head if
/// it has one) and the head trained on the device, when there is one, which takes precedence.
/// Swaps are atomic for callers: a prediction runs entirely on the old or the new model.
/// </summary>
public sealed class ModelServer : IDisposable
{
    private readonly Lock _gate = new();
    private ServedModel? _model;
    private HeadClassifier? _head;
    private long _swaps;

    /// <summary>The deployed package, or null before the first deployment.</summary>
    public ServedModel? Model
    {
        get
        {
            lock (_gate)
                return _model;
        }
    }

    /// <summary>The device-trained head, or null.</summary>
    public HeadClassifier? Head
    {
        get
        {
            lock (_gate)
                return _head;
        }
    }

    /// <summary>Which model and device head serve now, read together.</summary>
    public ServingIdentity Identity
    {
        get
        {
            lock (_gate)
                return new ServingIdentity(_model?.Installed.Directory, _head?.Record.Id, _swaps);
        }
    }

    /// <summary>The package counter served now (0 when none).</summary>
    public long Counter => Model?.Installed.Manifest.Counter ?? 0;

    /// <summary>Serves <paramref name="model"/> (and <paramref name="head"/>, trained for it, or none); disposes what it replaces.</summary>
    public void Replace(ServedModel? model, HeadClassifier? head)
    {
        ServedModel? oldModel;
        HeadClassifier? oldHead;
        lock (_gate)
        {
            (oldModel, oldHead) = (_model, _head);
            (_model, _head) = (model, head);
            _swaps++;
        }
        if (!ReferenceEquals(oldModel, model))
            oldModel?.Dispose();
        if (!ReferenceEquals(oldHead, head))
            oldHead?.Dispose();
    }

    /// <summary>Serves <paramref name="head"/> on the current package; disposes the head it replaces.</summary>
    public void ReplaceHead(HeadClassifier? head)
    {
        HeadClassifier? old;
        lock (_gate)
        {
            (old, _head) = (_head, head);
            _swaps++;
        }
        if (!ReferenceEquals(old, head))
            old?.Dispose();
    }

    /// <summary>Features [n × d] of encoded images through the frozen backbone.</summary>
    public float[] Extract(IReadOnlyList<byte[]> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        lock (_gate)
        {
            var model = _model ?? throw new AgentException(AgentErrorCode.NoModel, "No model is deployed yet: send 'deploy' first.");
            return model.Features.ExtractEncoded(images);
        }
    }

    /// <summary>Predictions for <paramref name="count"/> feature rows, from the device head or else the package's head.</summary>
    public IReadOnlyList<ServedPrediction> Predict(float[] features, int count)
    {
        lock (_gate)
        {
            var model = _model ?? throw new AgentException(AgentErrorCode.NoModel, "No model is deployed yet: send 'deploy' first.");
            string name = $"{model.Installed.Manifest.Name}@{model.Installed.Manifest.Version}";
            if (_head is { } head)
            {
                return [.. head.Probabilities(features, count).Select(p =>
                {
                    int best = Array.IndexOf(p, p.Max());
                    return new ServedPrediction(best, head.Labels[best], p[best], p, name, head.Record.Id);
                })];
            }
            if (model.Predictor is { } predictor)
                return [.. predictor.FromFeatures(features, count).Select(p => new ServedPrediction(p.ClassIndex, p.Label, p.Confidence, p.Probabilities, name, null))];
            throw new AgentException(AgentErrorCode.NoModel,
                "The package has no head and none has been trained here yet: ingest labelled samples (cold start) or send 'finetune'.");
        }
    }

    /// <summary>Disposes what is served.</summary>
    public void Dispose() => Replace(null, null);
}
