using System.Globalization;
using EdgeTL.Agent.Storage;
using EdgeTL.Runtime.Packaging;

// A process for the reliability tests to kill with SIGKILL at a random moment. It runs one of the
// agent's crash-sensitive operations in a loop, with the agent's own classes, and prints a line
// after each step has returned (the step is then acknowledged: it must survive the kill).
//
//   swap  <model-store> <trusted-keys-dir> <package>...   install the packages in turn, with rollbacks in between
//   store <agent.db>                                      write samples, outbox messages and inbox claims
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: edgetl-crash-target swap <model-store> <trusted-keys-dir> <package>... | store <agent.db>");
    return 2;
}
Console.Out.Flush();
var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
switch (args[0])
{
    case "swap" when args.Length >= 4:
        {
            using var keys = TrustedKeys.FromDirectory(args[2]);
            var store = new ModelStore(args[1], keys, keepVersions: 3);
            stdout.WriteLine($"ready {store.Current?.Manifest.Version ?? "none"}");
            for (long step = 0; ; step++)
            {
                string package = args[3 + (int)(step % (args.Length - 3))];
                var installed = store.Install(package);
                stdout.WriteLine($"installed {installed.Manifest.Version}");
                if (step % 3 == 2 && store.RollBack() is { } back)
                    stdout.WriteLine($"rolled-back {back.Manifest.Version}");
            }
        }
    case "store":
        {
            using var store = new AgentStore(args[1]);
            var image = new byte[2048];
            stdout.WriteLine("ready");
            for (long step = 0; ; step++)
            {
                Random.Shared.NextBytes(image);
                switch (step % 3)
                {
                    case 0:
                        stdout.WriteLine($"sample {store.Samples.Add(image, "Coat", "target", "crash-target").ToString(CultureInfo.InvariantCulture)}");
                        break;
                    case 1:
                        stdout.WriteLine($"outbox {store.Outbox.Enqueue("edgetl/test/crash/metrics/step", image, droppable: false).ToString(CultureInfo.InvariantCulture)}");
                        break;
                    default:
                        string id = $"cmd-{Guid.NewGuid():N}";
                        store.Inbox.TryClaim(id, "status", out _);
                        store.Inbox.Complete(id, "{\"status\":\"ok\"}");
                        stdout.WriteLine($"inbox {id}");
                        break;
                }
            }
        }
    default:
        Console.Error.WriteLine($"unknown mode '{args[0]}' or missing arguments");
        return 2;
}
