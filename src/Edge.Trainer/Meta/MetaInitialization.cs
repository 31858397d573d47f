using System.Globalization;
using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Meta;

/// <summary>
/// A meta-learned initialization of the seed head for N-way tasks on features of width d:
/// what a package ships so that a new deployment adapts from a few labelled samples.
/// </summary>
public sealed class MetaInitialization : IDisposable
{
    internal MetaInitialization(Tensor[] weights, MetaLearningOptions options, double[][] innerRates)
    {
        if (innerRates.Length != options.InnerSteps || innerRates.Any(r => r.Length != 4 || r.Any(v => !(v > 0) || !double.IsFinite(v))))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile,
                $"A head initialization needs one positive finite rate per layer tensor (4) for each of its {options.InnerSteps} inner steps.");
        Weights = weights;
        Options = options;
        InnerRates = innerRates;
    }

    /// <summary>W1 [h, d], b1 [h], W2 [N, h], b2 [N].</summary>
    internal Tensor[] Weights { get; }

    /// <summary>How it was trained (ways, inner steps and rate to adapt with).</summary>
    public MetaLearningOptions Options { get; }

    /// <summary>
    /// The SGD step size of each adaptation step (rows) for W1, b1, W2, b2 (columns): meta-learned
    /// when <see cref="MetaLearningOptions.LearnInnerRates"/>, else the fixed inner rate.
    /// </summary>
    public IReadOnlyList<double[]> InnerRates { get; }

    /// <summary>d, the feature width.</summary>
    public int FeatureDim => (int)Weights[0].shape[1];

    /// <summary>N, the number of classes of a task.</summary>
    public int Ways => (int)Weights[2].shape[0];

    /// <summary>A new head holding these weights (dropout as in the seed head).</summary>
    public HeadModel CreateHead()
    {
        var head = HeadModel.Create(FeatureDim, Ways, new HeadOptions { Hidden = (int)Weights[0].shape[0] });
        var (hidden, output) = HeadWeights.Layers(head.Head);
        using var noGrad = no_grad();
        hidden.weight!.copy_(Weights[0]);
        hidden.bias!.copy_(Weights[1]);
        output.weight!.copy_(Weights[2]);
        output.bias!.copy_(Weights[3]);
        return head;
    }

    /// <summary>The weights under the seed head's state-dict names, for a package's head file.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        using var head = CreateHead();
        return head.Head.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    /// <summary>
    /// Writes the seed head's state dict as safetensors, with how to adapt it (algorithm, inner
    /// steps and rate, ways) in the file's metadata.
    /// </summary>
    public void Save(string path)
    {
        var state = StateDict();
        try
        {
            Interop.SafeTensors.Save(state, path, new Dictionary<string, string>
            {
                ["edgetl.kind"] = "head-init",
                ["algorithm"] = Options.Algorithm.ToString(),
                ["ways"] = Ways.ToString(CultureInfo.InvariantCulture),
                ["inner-steps"] = Options.InnerSteps.ToString(CultureInfo.InvariantCulture),
                ["inner-learning-rate"] = Options.InnerLearningRate.ToString("R", CultureInfo.InvariantCulture),
                ["inner-learning-rates"] = System.Text.Json.JsonSerializer.Serialize(InnerRates),
            });
        }
        finally
        {
            foreach (var t in state.Values)
                t.Dispose();
        }
    }

    /// <summary>Reads a file written by <see cref="Save"/> (for example a package's <c>head-init</c> file).</summary>
    public static MetaInitialization Load(string path)
    {
        var metadata = Interop.SafeTensors.ReadMetadata(path);
        if (!metadata.TryGetValue("edgetl.kind", out var kind) || kind != "head-init"
            || !Enum.TryParse<MetaAlgorithm>(metadata.GetValueOrDefault("algorithm"), out var algorithm)
            || !int.TryParse(metadata.GetValueOrDefault("inner-steps"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int steps)
            || !double.TryParse(metadata.GetValueOrDefault("inner-learning-rate"), NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile, $"{path} is not a head initialization written by EdgeTL (its metadata is missing or wrong).");
        var state = Interop.SafeTensors.Load(path);
        string[] names = ["0.weight", "0.bias", "3.weight", "3.bias"];
        if (!names.All(state.ContainsKey) || state.Count != names.Length || state["0.weight"].dim() != 2 || state["3.weight"].dim() != 2
            || state["3.weight"].shape[1] != state["0.weight"].shape[0])
        {
            foreach (var t in state.Values)
                t.Dispose();
            throw new EdgeTrainerException(TrainerErrorCode.WeightsMismatch, $"{path} does not hold the seed head (0.weight, 0.bias, 3.weight, 3.bias).");
        }
        double[][]? rates = null;
        try
        {
            rates = System.Text.Json.JsonSerializer.Deserialize<double[][]>(metadata.GetValueOrDefault("inner-learning-rates") ?? "null");
        }
        catch (System.Text.Json.JsonException)
        {
        }
        if (rates is null || rates.Length != steps)
        {
            foreach (var t in state.Values)
                t.Dispose();
            throw new EdgeTrainerException(TrainerErrorCode.InvalidWeightsFile, $"{path} has no valid inner-learning-rates metadata (one row of 4 rates per inner step).");
        }
        var weights = names.Select(n => state[n]).ToArray();
        var options = new MetaLearningOptions
        {
            Algorithm = algorithm,
            Ways = (int)weights[2].shape[0],
            Hidden = (int)weights[0].shape[0],
            InnerSteps = steps,
            InnerLearningRate = rate,
        };
        options.Validate();
        return new MetaInitialization(weights, options, rates);
    }

    /// <summary>
    /// Cold start: a head adapted from this initialization on <paramref name="support"/> [n, d]
    /// with <paramref name="labels"/> [n], with the steps and rate it was meta-trained for (only the
    /// output layer moves after ANIL), at the <see cref="InnerRates"/> it learned.
    /// </summary>
    public Models.HeadModel Adapt(Tensor support, Tensor labels) =>
        FewShotAdaptation.Adapt(CreateHead(), support, labels, InnerRates, outputLayerOnly: Options.Algorithm == MetaAlgorithm.Anil);

    /// <summary>Frees the weight tensors.</summary>
    public void Dispose()
    {
        foreach (var w in Weights)
            w.Dispose();
    }
}
