using EdgeTL.Trainer;
using EdgeTL.Trainer.Backbones;

// The device agent. This version reports what the device can do; the service itself
// (MQTT, LiteDB, jobs, deployment) is not part of this version and says so.
switch (args.FirstOrDefault())
{
    case "info":
        Console.WriteLine($"EdgeTL agent on {Environment.MachineName} ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores)");
        Console.WriteLine($"training: {(TorchRuntime.IsAvailable ? "available" : "unavailable")} — {TorchRuntime.Describe()}");
        Console.WriteLine($"backbones: {string.Join(", ", BackboneZoo.Architectures)}");
        return TorchRuntime.IsAvailable ? 0 : 3;
    case null or "--help" or "-h" or "help":
        Console.WriteLine("usage: edgetl-agent info");
        Console.WriteLine("  info   report whether training (libtorch) is available and which backbones are known");
        return 0;
    default:
        Console.Error.WriteLine($"error: '{args[0]}' is not available in this version of the agent; the service verbs (run, demo, status, predict) are not built yet. Try 'info'.");
        return 2;
}
