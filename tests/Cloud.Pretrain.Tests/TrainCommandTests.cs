using System.Text.Json;
using EdgeTL.Runtime.Data;

namespace EdgeTL.Cloud.Tests;

/// <summary>
/// <c>train --data FOLDER</c> as a user runs it: real Fashion-MNIST images written as PNG into class
/// folders, a corrupt file among them, from the pretrain fixture's backbone, through head-only and
/// progressive, to the files the verb writes.
/// </summary>
[Collection(PretrainedGroup.Name)]
public sealed class TrainCommandTests(PretrainedFixture fixture) : IDisposable
{
    private static readonly string[] Names = ImageFolders.Names;
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cloud-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Train_on_an_image_folder_writes_the_model_and_a_report_scored_on_held_out_images_and_names_the_file_it_skipped()
    {
        string data = WriteFolder(Path.Combine(_dir, "photos"), perClass: 20, seed: 1);
        string broken = Path.Combine(data, "bag", "broken.png");
        await File.WriteAllBytesAsync(broken, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4]);
        await File.WriteAllTextAsync(Path.Combine(data, "bag", "notes.txt"), "not an image");
        string output = Path.Combine(_dir, "out");

        var run = await Cli.ExpectAsync(0, "train", "--data", data, "--weights", fixture.Checkpoint, "--size", "32", "--head-epochs", "40",
            "--epochs", "3", "--batch-size", "16", "--out", output, "--threads", "2", "--baseline");

        Assert.Contains("recipe: head-only 40 epochs", run.Output, StringComparison.Ordinal);
        Assert.Contains("transfer gain: ", run.Output, StringComparison.Ordinal);
        Assert.Contains($"skipped {broken}", run.Output, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "report.json")));
        var root = report.RootElement;
        Assert.Equal(Names.Order(StringComparer.Ordinal), root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("seeded split", root.GetProperty("splitBy").GetString());
        Assert.Equal(100, root.GetProperty("trainImages").GetInt32() + root.GetProperty("validationImages").GetInt32());
        Assert.Equal(20, root.GetProperty("validationImages").GetInt32());   // 4 of each class's 20
        Assert.Single(root.GetProperty("skipped").EnumerateArray(), s => s.GetString()!.StartsWith(broken, StringComparison.Ordinal));
        int confused = root.GetProperty("confusion").EnumerateArray().Sum(row => row.EnumerateArray().Sum(v => v.GetInt32()));
        Assert.Equal(20, confused);
        double headOnly = root.GetProperty("headOnlyAccuracy").GetDouble(), progressive = root.GetProperty("progressiveAccuracy").GetDouble();
        string kept = root.GetProperty("kept").GetString()!;
        Assert.Equal(progressive > headOnly ? "progressive" : "head-only", kept);
        Assert.Equal(kept == "progressive" ? progressive : headOnly, root.GetProperty("accuracy").GetDouble(), 9);
        Assert.True(headOnly >= 0.4, $"head-only {headOnly:P1} on five classes from a pretrained backbone (chance 20 %)");
        // --baseline: the same head-only fit on a random frozen resnet18; TG is the difference, on the same images.
        Assert.Equal("resnet18", root.GetProperty("baselineArchitecture").GetString());
        double baseline = root.GetProperty("baselineAccuracy").GetDouble();
        Assert.InRange(baseline, 0, 1);
        Assert.Equal(root.GetProperty("accuracy").GetDouble() - baseline, root.GetProperty("transferGain").GetDouble(), 9);
        foreach (var file in new[] { "model.bin", "curves.png", "confusion.png" })
            Assert.True(new FileInfo(Path.Combine(output, file)).Length > 0, $"{file} missing");

        // The run packages as it is: its classes, input size and golden images (its own validation images).
        string package = Path.Combine(_dir, "photos.tar");
        var packaged = await Cli.ExpectAsync(0, "package", "--from-train", output, "--key", fixture.PrivateKey, "--counter", "3", "--version", "1.1.0",
            "--out", package, "--threads", "2", "--json");
        using var summary = JsonDocument.Parse(packaged.Output);
        Assert.Equal(Names.Order(StringComparer.Ordinal), summary.RootElement.GetProperty("labels").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(32, summary.RootElement.GetProperty("inputSize").GetInt32());
        Assert.Equal("photos-resnet18", summary.RootElement.GetProperty("name").GetString());
        await Cli.ExpectAsync(0, "verify", "--package", package, "--trusted", fixture.Keys);
        var conflicting = await Cli.ExpectAsync(2, "package", "--from-train", output, "--weights", fixture.Checkpoint, "--key", fixture.PrivateKey,
            "--counter", "4", "--version", "1.2.0", "--out", Path.Combine(_dir, "x.tar"));
        Assert.Contains("--weights", conflicting.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_and_val_folders_are_used_as_they_are()
    {
        string data = Path.Combine(_dir, "split");
        WriteFolder(Path.Combine(data, "train"), perClass: 8, seed: 2);
        WriteFolder(Path.Combine(data, "val"), perClass: 3, seed: 3);
        var run = await Cli.ExpectAsync(0, "train", "--data", data, "--size", "32", "--head-epochs", "3", "--epochs", "0", "--out", Path.Combine(_dir, "o"), "--threads", "2", "--json");
        using var report = JsonDocument.Parse(run.Output);
        Assert.Equal("folders", report.RootElement.GetProperty("splitBy").GetString());
        Assert.Equal(40, report.RootElement.GetProperty("trainImages").GetInt32());
        Assert.Equal(15, report.RootElement.GetProperty("validationImages").GetInt32());
        Assert.Equal(JsonValueKind.Null, report.RootElement.GetProperty("progressiveAccuracy").ValueKind);
    }

    [Fact]
    public async Task A_class_with_no_decodable_image_and_a_missing_folder_are_data_errors_that_name_them()
    {
        string data = WriteFolder(Path.Combine(_dir, "bad"), perClass: 4, seed: 4);
        string empty = Path.Combine(data, "zz-empty");
        Directory.CreateDirectory(empty);
        await File.WriteAllBytesAsync(Path.Combine(empty, "x.jpg"), [1, 2, 3]);
        var run = await Cli.ExpectAsync(3, "train", "--data", data, "--size", "32", "--head-epochs", "1", "--epochs", "0", "--out", Path.Combine(_dir, "o2"));
        Assert.Contains("zz-empty", run.Error, StringComparison.Ordinal);

        string missing = Path.Combine(_dir, "nowhere");
        run = await Cli.ExpectAsync(3, "train", "--data", missing, "--out", Path.Combine(_dir, "o3"));
        Assert.Contains(missing, run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "o2")), "a failed run left an output folder");
    }

    [Fact]
    public async Task Train_starts_from_an_imported_onnx_graph_and_the_run_packages_with_it()
    {
        string data = WriteFolder(Path.Combine(_dir, "imgs"), perClass: 8, seed: 5);
        string onnx = Path.Combine(_dir, "r18.onnx"), imported = Path.Combine(_dir, "imported"), trained = Path.Combine(_dir, "trained");
        using (var backbone = EdgeTL.Trainer.Backbones.BackboneZoo.Create("resnet18"))
            EdgeTL.Trainer.Interop.Onnx.OnnxExporter.Save(backbone, onnx);
        await Cli.ExpectAsync(0, "import", "--from", onnx, "--out", imported, "--threads", "2");
        string importedArchitecture;
        using (var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(imported, "import.json"))))
        {
            Assert.Equal("imagenet", summary.RootElement.GetProperty("pixels").GetString());
            importedArchitecture = summary.RootElement.GetProperty("architecture").GetString()!;
        }

        var refused = await Cli.ExpectAsync(2, "train", "--data", data, "--from", imported, "--arch", "resnet34", "--out", trained);
        Assert.Contains("--arch", refused.Error, StringComparison.Ordinal);
        var run = await Cli.ExpectAsync(0, "train", "--data", data, "--from", imported, "--size", "32", "--head-epochs", "5", "--epochs", "3",
            "--out", trained, "--threads", "2", "--json");
        using var report = JsonDocument.Parse(run.Output);
        Assert.Equal(Path.GetFullPath(imported), report.RootElement.GetProperty("importFolder").GetString());
        Assert.Equal(importedArchitecture, report.RootElement.GetProperty("architecture").GetString());

        string package = Path.Combine(_dir, "imported.tar");
        var packaged = await Cli.ExpectAsync(0, "package", "--from-train", trained, "--key", fixture.PrivateKey, "--counter", "5", "--version", "2.0.0",
            "--out", package, "--threads", "2", "--json");
        using var manifest = JsonDocument.Parse(packaged.Output);
        Assert.Equal(5, manifest.RootElement.GetProperty("labels").GetArrayLength());
        await Cli.ExpectAsync(0, "verify", "--package", package, "--trusted", fixture.Keys);

        // The import folder packages directly too: its graph and weights, a new head for the device to train.
        string direct = Path.Combine(_dir, "from-import.tar");
        var refusedArch = await Cli.ExpectAsync(2, "package", "--from-import", imported, "--arch", "resnet34", "--classes", "a,b,c", "--key", fixture.PrivateKey,
            "--counter", "6", "--version", "2.1.0", "--out", direct);
        Assert.Contains("--arch", refusedArch.Error, StringComparison.Ordinal);
        var fromImport = await Cli.ExpectAsync(0, "package", "--from-import", imported, "--classes", "a,b,c", "--size", "32", "--key", fixture.PrivateKey,
            "--counter", "6", "--version", "2.1.0", "--out", direct, "--threads", "2", "--json");
        using var directManifest = JsonDocument.Parse(fromImport.Output);
        Assert.Equal(["a", "b", "c"], directManifest.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!));
        Assert.Equal("imported-" + importedArchitecture, directManifest.RootElement.GetProperty("name").GetString());
        await Cli.ExpectAsync(0, "verify", "--package", direct, "--trusted", fixture.Keys);
    }

    [Fact]
    public async Task Ctrl_C_during_progressive_keeps_a_checkpoint_and_resume_finishes_the_run_from_it()
    {
        string data = WriteFolder(Path.Combine(_dir, "resume-images"), perClass: 10, seed: 3);
        string output = Path.Combine(_dir, "resumed"), partial = output + ".partial";
        string[] args = ["train", "--data", data, "--weights", fixture.Checkpoint, "--size", "32", "--head-epochs", "10", "--epochs", "5",
            "--batch-size", "8", "--out", output, "--threads", "2"];

        using var ctrlC = new CancellationTokenSource();
        using var watched = new CancellingWriter("progressive epoch 2/5", ctrlC.Cancel);
        var interrupted = await Cli.InvokeAsync(watched, ctrlC.Token, args);
        Assert.True(interrupted.ExitCode == ExitCodes.Cancelled, interrupted.ToString());
        Assert.Contains("--resume", interrupted.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));   // no output until a run succeeds
        using (var state = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(partial, "state.json"))))
            Assert.Equal(2, state.RootElement.GetProperty("progressiveCurve").GetArrayLength());

        var changed = await Cli.ExpectAsync(ExitCodes.InvalidArguments, [.. args.Select(a => a == "5" ? "6" : a), "--resume"]);
        Assert.Contains("epochs 6", changed.Error, StringComparison.Ordinal);

        var resumed = await Cli.ExpectAsync(0, [.. args, "--resume"]);
        Assert.Contains("resuming: head-only done", resumed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("progressive epoch 2/5", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("progressive epoch 3/5", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("progressive epoch 5/5", resumed.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "report.json")));
        Assert.False(Directory.Exists(partial));

        var nothing = await Cli.ExpectAsync(ExitCodes.DataError, [.. args, "--resume"]);
        Assert.Contains("no checkpoint", nothing.Error, StringComparison.Ordinal);
    }

    /// <summary>Captures what a verb prints and presses Ctrl+C (cancels) once a line contains <c>trigger</c>.</summary>
    private sealed class CancellingWriter(string trigger, Action cancel) : StringWriter
    {
        private bool _fired;

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (!_fired && value is not null && value.Contains(trigger, StringComparison.Ordinal))
            {
                _fired = true;
                cancel();
            }
        }
    }

    private static string WriteFolder(string root, int perClass, int seed) => ImageFolders.WriteFashion(root, FashionMnist.LoadTest(), perClass, seed);
}
