using System.Diagnostics;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training;

/// <summary>
/// The supervised training loop, written out plainly: per epoch it applies the unfreeze
/// schedule (new groups join the optimizer at their own rate), sets every group's rate from the
/// LR schedule, trains with cross-entropy, evaluates source and target validation sets,
/// keeps the best weights, checkpoints atomically and stops early when asked.
/// A NaN or infinite loss, or one past the divergence guard, stops the run before the bad step is applied.
/// </summary>
public sealed class TrainingLoop
{
    private readonly TrainerOptions _options;
    private double? _firstLoss;

    /// <summary>Creates a trainer; options are validated here.</summary>
    public TrainingLoop(TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        if (options.BoundNativeMemory)
            AllocatorPolicy.BoundRetention();
    }

    /// <summary>Trains <paramref name="model"/> on <paramref name="train"/>.</summary>
    /// <param name="model">The model; its trainable groups (or the schedule) decide what trains.</param>
    /// <param name="train">Training batches.</param>
    /// <param name="validation">Source-domain validation batches (early stopping and best weights use these).</param>
    /// <param name="target">Target-domain validation batches, tracked beside the source curve.</param>
    /// <param name="progress">Receives each epoch's metrics.</param>
    /// <param name="cancellationToken">Stops the run between batches.</param>
    public TrainingResult Fit(ITrainable model, ITensorBatches train, ITensorBatches? validation = null, ITensorBatches? target = null,
        IProgress<EpochMetrics>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        if (train.SampleCount == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "The training set has no samples.");
        if (_options.StartEpoch < 0 || _options.StartEpoch >= _options.Epochs)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"StartEpoch {_options.StartEpoch} is outside the run's {_options.Epochs} epochs.");
        var clock = Stopwatch.StartNew();
        torch.manual_seed(_options.Seed);
        _firstLoss = null;

        if (_options.Unfreeze is { } schedule)
        {
            foreach (var name in schedule.Steps.SelectMany(s => s.Groups))
                _ = FindGroup(model, name);
            foreach (var g in model.Groups)
                g.SetTrainable(g.IsHead);
            foreach (var name in schedule.Steps.Where(step => step.Epoch < _options.StartEpoch).SelectMany(step => step.Groups))
                FindGroup(model, name).SetTrainable(true);   // a resumed run: what the schedule had opened already
        }

        using var layout = ChannelsLastScope.Enter(model.Network, _options.MemoryFormat);
        var compute = _options.Precision == Precision.PrecisionMode.Auto && Precision.PrecisionPolicy.CpuSupportsBf16
            ? Precision.PrecisionProbe.Choose(model, train)   // measured, not assumed: bf16 is slower than fp32 on some models
            : Precision.PrecisionPolicy.Resolve(_options.Precision);
        using var masters = compute == ScalarType.Float32 ? null : new Precision.MasterWeights(model.Network, compute);
        var scaler = Precision.PrecisionPolicy.NeedsLossScaling(compute) ? new Precision.DynamicLossScaler(_options.LossScaler) : null;
        if (scaler is not null && _options.CheckpointPath is { } resume)
            scaler.TryRestore(resume);
        var optimizer = new GroupedOptimizer(_options, model.Groups, masters is null ? null : masters.MasterOf);
        using var prefixCache = _options.CacheFrozenPrefix ? FrozenPrefixCache.For(model, train, _options.FrozenPrefixCacheBytes) : null;
        var epochs = new List<EpochMetrics>();
        Dictionary<string, Tensor>? best = null;
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        long steps = 0;
        bool stoppedEarly = false;
        try
        {
            for (int epoch = _options.StartEpoch; epoch < _options.Epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var epochClock = Stopwatch.StartNew();
                if (_options.Unfreeze is { } s)
                {
                    foreach (var name in s.GroupsAt(epoch))
                        FindGroup(model, name).SetTrainable(true);
                }
                if (_options.BiasOnly)
                    ApplyBiasOnly(model);
                optimizer.Sync(model.Groups, ScheduleFactor(epoch));

                var (trainLoss, trainAccuracy, batchSteps) = TrainEpoch(model, train, prefixCache, optimizer, masters, scaler, epoch, cancellationToken);
                steps += batchSteps;
                var sourceEval = validation is null ? null : Evaluation.Evaluate(model, validation);
                var targetEval = target is null ? null : Evaluation.Evaluate(model, target);
                var metrics = new EpochMetrics
                {
                    Epoch = epoch,
                    TrainLoss = trainLoss,
                    TrainAccuracy = trainAccuracy,
                    ValidationLoss = sourceEval?.Loss,
                    ValidationAccuracy = sourceEval?.Accuracy,
                    TargetLoss = targetEval?.Loss,
                    TargetAccuracy = targetEval?.Accuracy,
                    TrainableGroups = model.Groups.Where(g => g.IsTrainable).Select(g => g.Name).ToArray(),
                    LearningRates = optimizer.CurrentRates(),
                    Seconds = epochClock.Elapsed.TotalSeconds,
                };
                epochs.Add(metrics);
                if (_options.EpochCheckpointPath is { } every)
                    SaveCheckpoint(model.Network, every, masters, layout);
                progress?.Report(metrics);

                double monitored = sourceEval?.Loss ?? trainLoss;
                if (monitored < bestLoss)
                {
                    bestLoss = monitored;
                    bestEpoch = epoch;
                    sinceBest = 0;
                    if (validation is not null && _options.RestoreBest)
                        best = Snapshot(model.Network, best, masters);
                    if (_options.CheckpointPath is { } path)
                    {
                        SaveCheckpoint(model.Network, path, masters, layout);
                        scaler?.Save(path);
                    }
                }
                else if (_options.EarlyStoppingPatience > 0 && ++sinceBest >= _options.EarlyStoppingPatience)
                {
                    stoppedEarly = true;
                    break;
                }
            }
            masters?.Restore();
            if (best is not null)
                Restore(model.Network, best);
            else
                bestEpoch = epochs[^1].Epoch;
        }
        catch
        {
            masters?.Restore();
            throw;
        }
        finally
        {
            if (best is not null)
            {
                foreach (var t in best.Values)
                    t.Dispose();
            }
            optimizer.Dispose();
            if (_options.BoundNativeMemory)
                AllocatorPolicy.Trim();
        }
        return new TrainingResult
        {
            Epochs = epochs,
            BestEpoch = bestEpoch,
            StoppedEarly = stoppedEarly,
            Steps = steps,
            CheckpointPath = _options.CheckpointPath,
            Seconds = clock.Elapsed.TotalSeconds,
            ComputeType = compute.ToString(),
            SkippedSteps = scaler?.SkippedSteps ?? 0,
            PrefixCacheHits = prefixCache?.Hits ?? 0,
            FinalLossScale = scaler?.Scale,
        };
    }

    private (double Loss, double Accuracy, long Steps) TrainEpoch(ITrainable model, ITensorBatches train, FrozenPrefixCache? prefixCache, GroupedOptimizer optimizer,
        Precision.MasterWeights? masters, Precision.DynamicLossScaler? scaler, int epoch, CancellationToken cancellationToken)
    {
        model.SetTrainingMode(true);
        if (_options.FreezeBatchNormStatistics)
        {
            // Imported ONNX graphs normalize in BatchNormalization nodes, whose modules hold the statistics.
            foreach (var m in model.Network.modules().Where(m => m is BatchNorm1d or BatchNorm2d or BatchNorm3d or Interop.Onnx.OnnxNodeModule { OpType: "BatchNormalization" }))
                m.eval();
        }
        double lossSum = 0;
        long correct = 0, seen = 0, steps = 0;
        var trainable = model.Groups.Where(g => g.IsTrainable).SelectMany(g => g.Parameters()).Where(p => p.requires_grad).ToArray();
        int accumulation = _options.AccumulationSteps, micro = 0;
        bool finite = true;
        foreach (var (inputs, labels, indices) in Batches(train, prefixCache is not null, epoch))
        {
            using var ownedInputs = inputs;
            using var ownedLabels = labels;
            using var ownedIndices = indices;
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            InputGuard.RequireLabels(labels, model.ClassCount);
            if (micro == 0)
            {
                optimizer.ZeroGrad();
                masters?.ZeroMasterGradients();
                masters?.Push(trainable);
            }
            var x = masters is null ? inputs : inputs.to(masters.Compute);
            var logits = (prefixCache is null ? model.Network.forward(x) : prefixCache.Forward(x, indices!)).to(ScalarType.Float32);   // softmax and loss in fp32
            var loss = nn.functional.cross_entropy(logits, labels);
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new EdgeTrainerException(TrainerErrorCode.NonFiniteLoss,
                    $"Loss became {value} at epoch {epoch}, step {steps}; the step was not applied.");
            CheckDivergence(value, model.ClassCount, epoch, steps);
            var backwardLoss = accumulation > 1 ? loss / accumulation : loss;
            (scaler?.ScaleLoss(backwardLoss) ?? backwardLoss).backward();
            if (masters is not null)
                finite &= masters.PullGradients(trainable, scaler is null ? 1.0 : 1.0 / scaler.Scale, accumulate: micro > 0);
            if (++micro == accumulation)
            {
                steps += Apply(optimizer, masters, scaler, trainable, finite) ? 1 : 0;
                micro = 0;
                finite = true;
            }
            long n = labels.shape[0];
            lossSum += value * n;
            correct += logits.argmax(1).eq(labels).sum().item<long>();
            seen += n;
        }
        if (micro > 0)
            steps += Apply(optimizer, masters, scaler, trainable, finite) ? 1 : 0;
        if (seen == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "The training set yielded no batches.");
        return (lossSum / seen, (double)correct / seen, steps);
    }

    /// <summary>The epoch's batches, with their sample indices when a frozen-prefix cache needs them.</summary>
    private static IEnumerable<(Tensor Inputs, Tensor Labels, Tensor? Indices)> Batches(ITensorBatches train, bool indexed, int epoch)
    {
        if (indexed)
        {
            foreach (var (x, y, i) in ((IIndexedTensorBatches)train).IndexedEpoch(epoch))
                yield return (x, y, i);
            yield break;
        }
        foreach (var (x, y) in train.Epoch(epoch))
            yield return (x, y, null);
    }

    /// <summary>The divergence guard (<see cref="TrainerOptions.DivergenceFactor"/>): the first loss of the run sets the limit.</summary>
    private void CheckDivergence(double loss, int classes, int epoch, long step)
    {
        if (_options.DivergenceFactor == 0)
            return;
        if (_firstLoss is not { } first)
        {
            _firstLoss = loss;
            return;
        }
        double limit = _options.DivergenceFactor * Math.Max(first, Math.Log(Math.Max(2, classes)));
        if (loss > limit)
            throw new EdgeTrainerException(TrainerErrorCode.Diverged,
                $"Training diverged: the loss rose to {loss:G4} at epoch {epoch}, step {step} (first loss {first:G4}, limit {limit:G4}); the step was not applied.");
    }

    /// <summary>Unscaled gradients are already in the masters; clip, then step unless the scaler skips it.</summary>
    private bool Apply(GroupedOptimizer optimizer, Precision.MasterWeights? masters, Precision.DynamicLossScaler? scaler, Parameter[] trainable, bool finite)
    {
        bool apply = scaler?.Update(finite) ?? finite;
        if (!apply)
        {
            masters?.ZeroMasterGradients();
            return false;
        }
        if (_options.GradientClipNorm > 0)
            nn.utils.clip_grad_norm_(masters is null ? trainable : trainable.Select(masters.MasterOf), _options.GradientClipNorm);
        optimizer.Step();
        return true;
    }

    /// <summary>TinyTL's lite update: backbone groups keep only their biases trainable.</summary>
    private static void ApplyBiasOnly(ITrainable model)
    {
        foreach (var group in model.Groups.Where(g => !g.IsHead && g.IsTrainable))
        {
            foreach (var module in group.Modules)
            {
                foreach (var (name, p) in module.named_parameters())
                    p.requires_grad = name.EndsWith("bias", StringComparison.Ordinal);
            }
        }
    }

    /// <summary>Writes the fp32 master values in the contiguous layout: neither training-time detail reaches the file.</summary>
    private static void SaveCheckpoint(nn.Module network, string path, Precision.MasterWeights? masters, ChannelsLastScope? layout)
    {
        using var contiguous = layout?.Suspend();
        if (masters is null)
        {
            Checkpoint.Save(network, path);
            return;
        }
        masters.Restore();
        try
        {
            Checkpoint.Save(network, path);
        }
        finally
        {
            masters.Reconvert();
        }
    }

    private double ScheduleFactor(int epoch) => _options.Schedule switch
    {
        LrScheduleKind.Cosine => 0.5 * (1 + Math.Cos(Math.PI * epoch / _options.Epochs)),
        LrScheduleKind.Step => Math.Pow(_options.StepGamma, epoch / _options.StepSize),
        _ => 1.0,
    };

    private static LayerGroup FindGroup(ITrainable model, string name) =>
        model.Groups.FirstOrDefault(g => g.Name == name)
        ?? throw new EdgeTrainerException(TrainerErrorCode.UnknownLayerGroup,
            $"The schedule names '{name}', which the model does not have. Groups: {string.Join(", ", model.Groups.Select(g => g.Name))}.");

    private static Dictionary<string, Tensor> Snapshot(nn.Module network, Dictionary<string, Tensor>? previous, Precision.MasterWeights? masters)
    {
        if (previous is not null)
        {
            foreach (var t in previous.Values)
                t.Dispose();
        }
        if (masters is not null)
            return masters.State();
        using var noGrad = no_grad();
        return network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
    }

    private static void Restore(nn.Module network, Dictionary<string, Tensor> snapshot)
    {
        using var noGrad = no_grad();
        foreach (var (name, value) in network.state_dict())
            value.copy_(snapshot[name]);
    }

    /// <summary>
    /// One optimizer whose parameter groups follow the model's layer groups: EdgeTL's fused
    /// AdamW, or TorchSharp's SGD with momentum.
    /// </summary>
    private sealed class GroupedOptimizer : IDisposable
    {
        private readonly TrainerOptions _options;
        private readonly IReadOnlyList<LayerGroup> _all;
        private readonly List<(LayerGroup Group, Action<double> SetRate, Func<double> Rate, double BaseRate)> _groups = [];
        private readonly Func<Parameter, Parameter>? _master;
        private readonly Optim.FusedAdamW? _adamW;
        private optim.Optimizer? _sgd;

        /// <param name="options">The run's options.</param>
        /// <param name="all">Every layer group of the model.</param>
        /// <param name="master">In mixed precision, the fp32 master of each network parameter (what is optimized).</param>
        public GroupedOptimizer(TrainerOptions options, IReadOnlyList<LayerGroup> all, Func<Parameter, Parameter>? master)
        {
            _options = options;
            _all = all;
            _master = master;
            if (options.Optimizer == OptimizerKind.AdamW)
                _adamW = new Optim.FusedAdamW(weightDecay: options.WeightDecay);
        }

        /// <summary>Adds groups that became trainable, then sets each group's rate to base × factor.</summary>
        public void Sync(IReadOnlyList<LayerGroup> groups, double factor)
        {
            foreach (var g in groups.Where(g => g.IsTrainable && _groups.All(x => x.Group != g)))
            {
                double rate = _options.LearningRates.RateFor(g, _all);
                var parameters = g.Parameters().ToArray();
                var optimized = _master is null ? parameters : [.. parameters.Select(_master)];
                if (_adamW is not null)
                {
                    var group = _adamW.AddGroup(optimized, rate);
                    _groups.Add((g, r => group.LearningRate = r, () => group.LearningRate, rate));
                }
                else
                {
                    var group = AddSgd(optimized, rate);
                    _groups.Add((g, r => group.LearningRate = r, () => group.LearningRate, rate));
                }
            }
            if (_groups.Count == 0)
                throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, "Nothing is trainable: every layer group is frozen.");
            foreach (var (_, setRate, _, baseRate) in _groups)
                setRate(baseRate * factor);
        }

        public Dictionary<string, double> CurrentRates() =>
            _groups.Where(x => x.Group.IsTrainable).ToDictionary(x => x.Group.Name, x => x.Rate());

        public void ZeroGrad()
        {
            _adamW?.ZeroGrad();
            _sgd?.zero_grad();
        }

        public void Step()
        {
            _adamW?.Step();
            _sgd?.step();
        }

        public void Dispose()
        {
            _adamW?.Dispose();
            _sgd?.Dispose();
        }

        private ParamGroup AddSgd(Parameter[] parameters, double rate)
        {
            var group = new SGD.ParamGroup(parameters, new SGD.Options { LearningRate = rate });
            if (_sgd is null)
                _sgd = optim.SGD([group], rate, momentum: _options.Momentum, weight_decay: _options.WeightDecay);
            else
                _sgd.add_param_group(group);
            return _sgd.ParamGroups.Cast<ParamGroup>().Last();
        }
    }
}
