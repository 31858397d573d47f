using EdgeTL.Trainer.Training;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>finetune</c> (a job): the head (<c>mode=head</c>) or the backbone's stages too (<c>progressive</c>, <c>surgical</c>), promoted only by the guard.</summary>
public sealed class FinetuneHandler(TrainingGateService training, JobService jobs, HeadTraining head, BackboneTraining backbone) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Finetune;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = CommandArgs.Read(command, ProtocolJson.Default.FinetuneArgs);
        var settings = new FinetuneSettings { Mode = args.Mode, Epochs = args.Epochs, LearningRate = args.LearningRate, Schedule = args.Schedule, Seed = args.Seed };
        if (settings.TrainsBackbone && settings.Epochs < BackboneModes.MinimumEpochs)
            throw new InvalidCommandArgumentsException($"args.epochs must be at least {BackboneModes.MinimumEpochs} for mode '{settings.Mode}' (the head first, then the backbone's stages).");
        training.Require(CommandNames.Finetune);
        return Task.FromResult(jobs.Start(command, CommandNames.Finetune, token => settings.TrainsBackbone
            ? backbone.Run(command, settings, token)
            : head.Run(command, settings, token)));
    }
}
