using System.Diagnostics;
using System.Globalization;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Metrics;
using EdgeTL.Trainer.Models;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Services;

/// <summary>
/// <c>adapt method=bn|tent</c>: label-free adaptation of the served backbone to a target domain.
/// The shift is localized first; <c>bn</c> re-estimates the BatchNorm statistics of the early layer groups whose
/// re-normalization brings the target's features closest to the source's (<see cref="RenormalizationChoice"/>) on the target images (AdaBN); <c>tent</c> also
/// trains their BatchNorm scales and shifts to minimize the serving head's prediction entropy on them.
/// The candidate (new backbone, same head) is judged by the promotion guard: on the labelled target
/// rows the serving model never trained on (the holdout, and train-part rows it has not seen: the candidate reads no label, and
/// adapts on the other target images only) when there are MinHoldout of them, else, if the policy allows it, label-free (target entropy and
/// the source golden set must not get worse). A promoted one is exported, checked in ONNX Runtime and
/// installed as a device-made version, as a backbone fine-tune is.
/// </summary>
public sealed class LabelFreeAdaptation
{
    /// <summary>Target images used at most (the newest).</summary>
    private const int TargetLimit = 1000;

    /// <summary>Labelled source images the domain MMD² is measured on, at most.</summary>
    private const int MmdSourceLimit = 200;

    private readonly AgentStore _store;
    private readonly ModelServing _serving;
    private readonly SettingsService _settings;
    private readonly SampleFeatures _samples;
    private readonly PromotionPolicy _policy;
    private readonly ServingUpdates _updates;
    private readonly MetricsPublisher _metrics;
    private readonly CommandResults _results;
    private readonly ILogger _logger;

    /// <summary>Creates the label-free adapter.</summary>
    public LabelFreeAdaptation(AgentStore store, ModelServing serving, SettingsService settings, SampleFeatures samples, PromotionPolicy policy, ServingUpdates updates,
        MetricsPublisher metrics, CommandResults results, ILogger<LabelFreeAdaptation> logger)
    {
        _store = store;
        _serving = serving;
        _settings = settings;
        _samples = samples;
        _policy = policy;
        _updates = updates;
        _metrics = metrics;
        _results = results;
        _logger = logger;
    }

    /// <summary>Adapts the served backbone with <paramref name="method"/> (<c>bn</c> or <c>tent</c>), judges it, and installs it if promoted.</summary>
    public CommandResult Run(CommandEnvelope command, string method, int steps, string targetDomain, ShiftSummary? shift, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var clock = Stopwatch.StartNew();
        var begunOn = _updates.Identity();   // the candidate is judged against what serves now, and replaces only that
        var server = _serving.Server;
        var parent = (server.Model ?? throw NoModel()).Installed;
        var input = parent.Manifest.Input;
        if (input.Channels != 3)
            throw new AgentException(AgentErrorCode.TrainingUnavailable, $"The served backbone reads {input.Channels} channel(s); backbone adaptation handles 3-channel images only.");
        var classes = _serving.Classes ?? throw NoModel();
        var recent = _store.Samples.Recent(targetDomain, TargetLimit);
        // A label-free candidate reads no label, so every labelled target row the serving model never trained on can judge it
        // (the holdout, and train-part rows no device head or device-made backbone has seen); those rows are kept out of the
        // images it is made from (localization, the choice of groups, the statistics), so it is judged on images it never saw.
        var (targetSamples, heldTarget) = _policy.SplitTarget(recent, classes);
        if (targetSamples.Count < 10)
            throw PromotionPolicy.TooFewToAdaptOn("Adaptation", targetDomain, 10, heldTarget.Count, targetSamples.Count);
        var labelledSource = _store.Samples.Labelled().Where(s => s.Domain != targetDomain && s.Label is not null && classes.Contains(s.Label)).ToList();
        var goldenSamples = labelledSource.Where(s => HoldoutSplit.IsHoldout(s.Id)).ToList();
        if (labelledSource.Count < 2)
            throw new AgentException(AgentErrorCode.NotEnoughData,
                $"'{method}' needs at least 2 labelled samples outside domain '{targetDomain}' to measure the shift and to judge the result against; there are {labelledSource.Count}.");

        // The serving head is copied into the trainable model with no rollback in between (a rollback disposes the head it replaces).
        var (model, headCarried) = _serving.Exclusively(() =>
        {
            var head = server.Head;
            var built = BackboneTuning.Build(parent.PathOf(PackageFileRoles.Backbone)!, classes.Count, head?.SeedHead,
                head is null && classes.SequenceEqual(parent.Manifest.Labels) ? parent.PathOf(PackageFileRoles.Head) : null, seed: 0, out bool carried);
            return (built, carried);
        });
        using var ownedModel = model;
        if (!headCarried)
            throw new AgentException(AgentErrorCode.TrainingUnavailable,
                $"'{method}' adapts the backbone under the serving head, and the serving head ({server.Head?.Record.Kind ?? "none"}) is not a seed head it can carry over; " +
                "send 'rollback' with target=head or 'finetune' first.");

        int side = input.Size;
        using var scope = NewDisposeScope();
        var target = tensor(SampleFeatures.PixelsOf(targetSamples, input)).view(targetSamples.Count, 3, side, side);
        var source = tensor(SampleFeatures.PixelsOf([.. labelledSource.Take(MmdSourceLimit)], input)).view(-1, 3, side, side);
        double mmdBefore = DomainMmd(model, source, target);
        double servingEntropy = CandidateScoring.MeanEntropy(server.Predict(_samples.ExtractInBatches([.. targetSamples.Select(s => s.Image)], cancellationToken), targetSamples.Count)
            .Select(p => p.Probabilities).ToArray());
        shift ??= LocalizeShift(targetDomain, cancellationToken);
        var groups = shift.Renormalized;
        int used = method == "tent"
            ? TestTimeAdaptation.Tent(model.Backbone, model.Head, target, new TentOptions { Steps = steps, Groups = groups }, cancellationToken).Steps
            : TestTimeAdaptation.AdaBn(model.Backbone, target, groups: groups);
        double mmdAfter = DomainMmd(model, source, target);
        double candidateEntropy = TestTimeAdaptation.MeanEntropy(model.Backbone, model.Head, target);

        var decision = Decide(model, heldTarget, goldenSamples, side, candidateEntropy, servingEntropy);
        bool labelBased = decision.Test != "label-free";
        var backbone = new BackboneReport(groups, [.. model.Groups.Select(g => g.Name).Except(groups)], parent.Manifest.Counter, parent.Manifest.Version, null, null, 0);
        var report = new AdaptationReport(command.Id, method, used, goldenSamples.Count, targetSamples.Count, labelBased ? "accuracy" : "neg-entropy",
            labelBased ? decision.ServingAccuracy ?? 0 : -servingEntropy, labelBased ? decision.CandidateAccuracy ?? 0 : -candidateEntropy,
            labelBased ? (decision.CandidateAccuracy ?? 0) - (decision.ServingAccuracy ?? 0) : servingEntropy - candidateEntropy,
            mmdBefore, mmdAfter, null, null, "adapted", clock.Elapsed.TotalSeconds, [], "rolled-back", Guard: _policy.ToWire(decision), Backbone: backbone, Shift: shift);
        if (!decision.Promoted)
        {
            AdaptationService.Record(_store, _metrics, command, "rolled-back", report);
            return _results.Result(command, CommandStatus.Failed, $"Adaptation ({method}) {decision.Reason}; the served model stays.", report, ProtocolJson.Default.AdaptationReport);
        }

        var checkCount = Math.Min(ServingUpdates.ExportCheckImages, targetSamples.Count);
        var check = new LabelledFeatures(target.narrow(0, 0, checkCount).flatten().data<float>().ToArray(), new int[checkCount], 3 * side * side, classes,
            [.. targetSamples.Take(checkCount).Select(s => s.Id)]);
        var installed = _updates.InstallBackbone(command, method, begunOn, parent, model, check, out double delta, out var precision);
        report = report with { Backbone = backbone with { ModelVersion = installed?.Manifest.Version, OnnxMaxAbsDifference = delta, OnnxCheckedOn = checkCount, Precision = precision },
            Seconds = clock.Elapsed.TotalSeconds };
        if (installed is null)
        {
            report = report with { Guard = report.Guard! with { Promoted = false } };
            AdaptationService.Record(_store, _metrics, command, "export-mismatch", report);
            return _results.Result(command, CommandStatus.Failed,
                $"Not promoted: its ONNX export differs from the adapted module by {delta:G3} (allowed {BackboneTuning.ExportTolerance:G3}); the served model stays.",
                report, ProtocolJson.Default.AdaptationReport);
        }
        report = report with { Outcome = "promoted" };
        AdaptationService.Record(_store, _metrics, command, "promoted", report);
        return _results.Result(command, CommandStatus.Ok,
            $"Adapted ({method}): serving {installed.Manifest.Version} (device-made from counter {parent.Manifest.Counter}); {decision.Reason}.",
            report, ProtocolJson.Default.AdaptationReport);
    }

    /// <summary>
    /// Where the shift from the labelled source samples to domain <paramref name="targetDomain"/> shows in
    /// the served backbone, and what <c>auto</c> runs for it: <c>bn</c> for an input-level shift (then
    /// <c>finetune mode=surgical</c> once labels arrive), the drift policy's head method for a semantic
    /// one (then <c>mode=progressive</c>).
    /// </summary>
    public ShiftSummary LocalizeShift(string targetDomain, CancellationToken cancellationToken)
    {
        var served = _serving.Server.Model ?? throw NoModel();
        var input = served.Installed.Manifest.Input;
        if (input.Channels != 3)
            throw new AgentException(AgentErrorCode.TrainingUnavailable, $"The served backbone reads {input.Channels} channel(s); shift localization handles 3-channel images only.");
        var source = _store.Samples.Labelled().Where(s => s.Domain != targetDomain).Take(MmdSourceLimit).ToList();
        var classes = _serving.Classes ?? throw NoModel();
        var (target, _) = _policy.SplitTarget(_store.Samples.Recent(targetDomain, TargetLimit), classes);
        if (source.Count < 2 || target.Count < 10)
            throw new AgentException(AgentErrorCode.NotEnoughData,
                $"Localizing a shift needs at least 2 labelled samples outside domain '{targetDomain}' and 10 of it besides its labelled ones kept to judge the result; " +
                $"there are {source.Count} and {target.Count}. Send unlabelled images of the domain.");
        cancellationToken.ThrowIfCancellationRequested();
        using var backbone = OnnxImporter.ImportBackbone(served.Installed.PathOf(PackageFileRoles.Backbone)!, new OnnxImportOptions { Name = "served" });
        using var scope = NewDisposeScope();
        int side = input.Size;
        var sourceImages = tensor(SampleFeatures.PixelsOf(source, input)).view(-1, 3, side, side);
        var targetImages = tensor(SampleFeatures.PixelsOf(target, input)).view(-1, 3, side, side);
        var report = ShiftLocalization.Localize(backbone, sourceImages, targetImages);
        cancellationToken.ThrowIfCancellationRequested();
        var renormalization = RenormalizationChoice.Choose(backbone, sourceImages, targetImages, report);
        bool inputLevel = report.Level == ShiftLevel.Input;
        var policy = _settings.Current.Drift;
        string headMethod = policy.Method is "dann" or "mmd" ? policy.Method : "mmd";
        var summary = new ShiftSummary([.. report.Stages.Select(s => new StageMismatch(s.Stage, s.Mismatch, s.Layers))], report.PeakStage,
            inputLevel ? "input" : "semantic", inputLevel ? "bn" : headMethod, inputLevel ? "surgical" : "progressive", renormalization.Groups,
            [new RenormalizationGap([], renormalization.Unadapted), .. renormalization.Candidates.Select(c => new RenormalizationGap(c.Groups, c.FeatureGap, c.BatchNormLayers, c.GapError))]);
        _logger.ShiftLocalized(targetDomain, $"{report.Describe()}; re-normalize {renormalization.Describe()}", summary.Method);
        return summary;
    }

    /// <summary>
    /// The guard for a label-free backbone adaptation: label-based on the labelled target rows the serving model never
    /// trained on (<see cref="PromotionPolicy.NeverTrainedOn"/>) when there are at least MinHoldout of them (or when label-free promotion is not
    /// allowed); else label-free: mean entropy on the target and the source golden set must not get worse.
    /// </summary>
    private PromotionDecision Decide(TransferModel candidate, List<SampleRecord> heldTarget, List<SampleRecord> goldenSamples, int side,
        double candidateEntropy, double servingEntropy)
    {
        var input = _serving.Server.Model!.Installed.Manifest.Input;
        PromotionDecision? labelled = heldTarget.Count >= 2 ? _policy.BackboneDecision(candidate, _samples.LabelledPixelsOf(heldTarget, input), heldTarget, side) : null;
        if ((labelled?.N ?? 0) >= _policy.MinHoldout || !_policy.AllowLabelFree)
        {
            // An adaptation must help, as a head adaptation must beat its source-only baseline: not worse is not enough.
            if (_policy.AdaptationMustHelp && labelled is { Promoted: true, CandidateAccuracy: { } c, ServingAccuracy: { } s } && c <= s)
                return labelled with { Promoted = false, Reason = string.Create(CultureInfo.InvariantCulture,
                    $"not promoted: it did not help on the labelled target samples (accuracy {c:P1} against {s:P1} serving, n = {labelled.N})") };
            return labelled ?? _policy.Guard.Decide([], []);
        }
        var golden = goldenSamples.Count >= 2 ? _samples.LabelledPixelsOf(goldenSamples, input) : null;
        var rows = golden is null ? null : _serving.Server.Head is { } serving ? PromotionPolicy.UnseenBy(serving, golden) : golden;
        bool[] candidateGolden = rows is null ? [] : BackboneTuning.Correct(candidate, rows, side);
        bool[] servingGolden = rows is null ? [] : _policy.ServingCorrect(rows, goldenSamples);
        return _policy.Guard.DecideLabelFree(candidateEntropy, servingEntropy, candidateGolden, servingGolden);
    }

    /// <summary>Gaussian MMD² between the backbone features of <paramref name="source"/> and <paramref name="target"/> images (eval mode).</summary>
    private static double DomainMmd(TransferModel model, Tensor source, Tensor target)
    {
        if (source.shape[0] < 2)
            return double.NaN;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.SetTrainingMode(false);
        return Mmd.GaussianUnbiased(model.Backbone.ForwardFeatures(source), model.Backbone.ForwardFeatures(target));
    }

    private static AgentException NoModel() => new(AgentErrorCode.NoModel, "No model is deployed yet: send 'deploy' first.");
}
