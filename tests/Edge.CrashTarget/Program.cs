using System.Globalization;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Storage;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Adaptation;

// A process for the reliability tests to kill with SIGKILL at a random moment. It runs one of the
// agent's crash-sensitive operations in a loop, with the agent's own classes, and prints a line
// after each step has returned (the step is then acknowledged: it must survive the kill).
//
//   swap  <model-store> <trusted-keys-dir> <package>...   install the packages in turn, with rollbacks in between
//   store <agent.db>                                      write samples, outbox messages and inbox claims
//   device <model-store> <trusted-keys-dir> <package>     install the package, then make device versions of what serves
//                                                         (import, re-normalize the stem, export, check, install) with rollbacks
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: edgetl-crash-target swap <model-store> <trusted-keys-dir> <package>... | store <agent.db> | device <model-store> <trusted-keys-dir> <package>");
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
    case "device" when args.Length >= 4:
        {
            using var keys = TrustedKeys.FromDirectory(args[2]);
            var store = new ModelStore(args[1], keys, keepVersions: 3);
            if (store.Current is null)
                stdout.WriteLine($"installed {store.Install(args[3]).Manifest.Version}");
            TorchSharp.torch.set_num_threads(1);
            string exports = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(args[1]))!, "exports");
            stdout.WriteLine($"ready {store.Current!.Manifest.Version}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (long step = 0; ; step++)
            {
                var parent = store.Current!;
                int side = parent.Manifest.Input.Size, length = 3 * side * side;
                using var model = BackboneTuning.Build(parent.PathOf(PackageFileRoles.Backbone)!, parent.Manifest.Labels.Count, null,
                    parent.PathOf(PackageFileRoles.Head), seed: (int)step, out _);
                using (var images = TorchSharp.torch.rand(16, 3, side, side))
                    TestTimeAdaptation.AdaBn(model.Backbone, images, groups: ["stem"]);
                var pixels = new float[8 * length];
                for (int i = 0; i < pixels.Length; i++)
                    pixels[i] = Random.Shared.NextSingle();
                var check = new LabelledFeatures(pixels, new int[8], length, parent.Manifest.Labels, [.. Enumerable.Range(0, 8).Select(i => (long)i)]);
                string folder = Path.Combine(exports, step.ToString(CultureInfo.InvariantCulture));
                var (backbone, head, _) = BackboneTuning.Export(model, check, side, folder);
                var replaced = new Dictionary<string, string> { [PackageFileRoles.Backbone] = backbone, [PackageFileRoles.Head] = head };
                if (parent.Manifest.Golden is { } golden && parent.PathOf(PackageFileRoles.GoldenInputs) is { } goldenInputs)
                    replaced[PackageFileRoles.GoldenOutputs] = BackboneTuning.GoldenOutputs(backbone, goldenInputs, golden.Count, side);
                string version = $"{parent.Manifest.Version.Split('+')[0]}+device.{step.ToString(CultureInfo.InvariantCulture)}";
                var origin = new DeviceOrigin(parent.Manifest.Counter, parent.Manifest.Version, $"crash-{step}", "bn", DateTimeOffset.UtcNow);
                store.InstallLocal(parent, replaced, [PackageFileRoles.BackboneFloat16, PackageFileRoles.Weights], version, origin, parent.Manifest.Labels);
                Directory.Delete(folder, recursive: true);
                stdout.WriteLine($"device {version} after {clock.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture)} ms");
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
