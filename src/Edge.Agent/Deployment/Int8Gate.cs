using System.Globalization;
using EdgeTL.Agent.Learning;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Deployment;

/// <summary>What the int8 gate measures on: the device's labelled holdout images with their labels, and its recent images.</summary>
/// <param name="Holdout">Labelled holdout samples no candidate trains on (<see cref="HoldoutSplit"/>).</param>
/// <param name="Recent">Recent images of any domain, labelled or not.</param>
public sealed record Int8Evidence(IReadOnlyList<(byte[] Image, string Label)> Holdout, IReadOnlyList<byte[]> Recent);

/// <summary>
/// Chooses the backbone a model with an int8 variant serves with (<see cref="ModelManifest.Quantized"/>). Int8 serves only where:
/// <list type="number">
/// <item>the device runs the backbone on the CPU provider (a GPU serves fp32 or fp16; TensorRT builds its own INT8 engines);</item>
/// <item>the int8 backbone opens and passes the health gate against its own golden features and tolerance;</item>
/// <item>the accuracy it loses against fp32, through the classifier that serves, is within the package's budget at the promotion guard's
/// bound (<see cref="PromotionGuard.DifferenceLowerBound"/>), on at least MinHoldout rows. With that many labelled holdout samples the rows
/// are those (<c>device-holdout</c>); otherwise the golden inputs and recent images, with fp32's predictions as the labels
/// (<c>agreement</c>): int8 can only lose there, so the bound is minus its disagreement, and the true drop on any labels is at most that.</item>
/// </list>
/// Otherwise fp32 serves, and the choice says why. The gate never throws for a bad int8 backbone.
/// </summary>
public sealed partial class Int8Gate
{
    private const int Batch = 32;
    private readonly HealthGate _health;
    private readonly int _minRows;
    private readonly SessionOptionsSpec? _sessions;
    private readonly ILogger _logger;

    /// <summary>Creates the gate.</summary>
    /// <param name="health">The health gate the int8 backbone passes too.</param>
    /// <param name="minRows">Fewest rows a decision needs (the agent's MinHoldout).</param>
    /// <param name="sessions">ONNX Runtime preferences (the int8 backbone always runs on the CPU provider).</param>
    /// <param name="logger">Where the choice is logged.</param>
    public Int8Gate(HealthGate health, int minRows, SessionOptionsSpec? sessions, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(health);
        ArgumentOutOfRangeException.ThrowIfLessThan(minRows, 1);
        _health = health;
        _minRows = minRows;
        _sessions = sessions;
        _logger = logger;
    }

    /// <summary>
    /// The model to serve for <paramref name="fp32"/> (opened as usual) and the choice, or <paramref name="fp32"/> and null when the
    /// package has no int8 backbone. <paramref name="classify"/> maps features [count × d] to labels with the classifier that will
    /// serve (null: none yet). The model not chosen is disposed.
    /// </summary>
    public (ServedModel Served, PrecisionChoice? Choice) Choose(ServedModel fp32, Func<float[], int, string[]>? classify, Func<Int8Evidence> evidence)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(evidence);
        if (fp32.Installed.Manifest.Quantized is not { } section)
            return (fp32, null);
        double budget = section.AccuracyBudgetPoints;
        PrecisionChoice Keep(string why, PrecisionChoice? figures = null)
        {
            var choice = (figures ?? new PrecisionChoice(PrecisionChoice.FullPrecision, "", MinRows: _minRows, BudgetPoints: budget)) with { Served = PrecisionChoice.FullPrecision, Reason = $"fp32 serves: {why}" };
            LogChoice(_logger, fp32.Installed.Manifest.Name, fp32.Installed.Manifest.Version, choice.Served, choice.Reason);
            return choice;
        }
        if (fp32.Backbone.Provider != ExecutionProvider.Cpu)
            return (fp32, Keep($"the backbone runs on {fp32.Backbone.Provider}; the int8 backbone serves on the CPU provider only"));
        if (classify is null)
            return (fp32, Keep("nothing classifies yet (no package head, no device head), so the int8 accuracy drop cannot be measured"));

        ServedModel int8;
        try
        {
            int8 = ServedModel.OpenInt8(fp32.Installed, _sessions, _logger);
        }
        catch (Exception e) when (e is EdgeRuntimeException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            return (fp32, Keep($"the int8 backbone could not be opened: {e.Message}"));
        }
        try
        {
            var health = _health.Check(int8);
            if (!health.Passed)
            {
                int8.Dispose();
                return (fp32, Keep($"the int8 backbone failed the health gate: {health.Reason}",
                    new PrecisionChoice(PrecisionChoice.FullPrecision, "", MinRows: _minRows, BudgetPoints: budget, GoldenMaxAbsDifference: health.MaxAbsDifference)));
            }
            var measured = Measure(fp32, int8, classify, evidence(), budget) with { GoldenMaxAbsDifference = health.MaxAbsDifference };
            if (measured.Served == PrecisionChoice.Quantized)
            {
                LogChoice(_logger, fp32.Installed.Manifest.Name, fp32.Installed.Manifest.Version, measured.Served, measured.Reason);
                fp32.Dispose();
                return (int8, measured);
            }
            int8.Dispose();
            return (fp32, Keep(measured.Reason, measured));
        }
        catch (Exception e) when (e is EdgeRuntimeException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            int8.Dispose();
            return (fp32, Keep($"the int8 backbone could not be run: {e.Message}"));
        }
    }

    private PrecisionChoice Measure(ServedModel fp32, ServedModel int8, Func<float[], int, string[]> classify, Int8Evidence evidence, double budget)
    {
        var c = CultureInfo.InvariantCulture;
        string test;
        string[] reference, fp32Predicted, int8Predicted;
        if (evidence.Holdout.Count >= _minRows)
        {
            test = "device-holdout";
            var images = evidence.Holdout.Select(h => h.Image).ToList();
            reference = [.. evidence.Holdout.Select(h => h.Label)];
            fp32Predicted = Classify(fp32, images, classify);
            int8Predicted = Classify(int8, images, classify);
        }
        else
        {
            test = "agreement";
            var installed = fp32.Installed;
            float[] goldenInputs = installed.PathOf(PackageFileRoles.GoldenInputs) is { } path ? GoldenCheck.ReadFloats(path) : [];
            int goldenCount = goldenInputs.Length == 0 ? 0 : installed.Manifest.Golden?.Count ?? 0;
            var recent = evidence.Recent.ToList();
            string[] ClassifyAll(ServedModel model) =>
                [.. (goldenCount > 0 ? classify(GoldenCheck.Features(model.Backbone, goldenInputs, goldenCount), goldenCount) : []), .. Classify(model, recent, classify)];
            fp32Predicted = ClassifyAll(fp32);
            int8Predicted = ClassifyAll(int8);
            reference = fp32Predicted;
        }
        int n = reference.Length;
        if (n < _minRows)
        {
            return new PrecisionChoice(PrecisionChoice.FullPrecision, string.Create(c,
                $"too few samples to measure the int8 accuracy drop (n = {n} < MinHoldout {_minRows}; {evidence.Holdout.Count} labelled holdout samples, golden inputs and recent images)"),
                test, n, _minRows, BudgetPoints: budget);
        }
        int wins = 0, losses = 0, fp32Right = 0, int8Right = 0;
        for (int i = 0; i < n; i++)
        {
            bool a = int8Predicted[i] == reference[i], b = fp32Predicted[i] == reference[i];
            int8Right += a ? 1 : 0;
            fp32Right += b ? 1 : 0;
            wins += a && !b ? 1 : 0;
            losses += !a && b ? 1 : 0;
        }
        double bound = PromotionGuard.DifferenceLowerBound(wins, losses, n, PromotionGuard.Confidence);
        bool passes = bound >= -budget / 100 - 1e-12;
        string rows = test == "agreement" ? $"golden inputs and recent images, fp32's predictions as labels" : "labelled holdout samples";
        string reason = string.Create(c,
            $"int8 {(double)int8Right / n:P1} against fp32 {(double)fp32Right / n:P1} on n = {n} {rows} ({wins} won, {losses} lost); 95 % lower bound on int8 − fp32 {100 * bound:+0.0;−0.0;0.0} points {(passes ? "≥" : "<")} −{budget:0.##} (budget)");
        return new PrecisionChoice(passes ? PrecisionChoice.Quantized : PrecisionChoice.FullPrecision, passes ? $"int8 serves: {reason}" : reason, test, n, _minRows,
            (double)fp32Right / n, (double)int8Right / n, bound, budget);
    }

    private static string[] Classify(ServedModel model, List<byte[]> images, Func<float[], int, string[]> classify)
    {
        var predicted = new List<string>(images.Count);
        foreach (var chunk in images.Chunk(Batch))
            predicted.AddRange(classify(model.Features.ExtractEncoded(chunk), chunk.Length));
        return [.. predicted];
    }

    [LoggerMessage(EventId = 3010, EventName = "BackbonePrecisionChosen", Level = LogLevel.Information, Message = "{Name} {Version}: {Served} backbone. {Reason}")]
    private static partial void LogChoice(ILogger logger, string name, string version, string served, string reason);
}
