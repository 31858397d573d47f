using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent;
using EdgeTL.Agent.Messaging;
using EdgeTL.Control;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Packaging;
using EdgeTL.Trainer.Visualization;

namespace EdgeTL.Demo;

/// <summary>
/// The one-command demo: pretrain (or reuse) a backbone on Fashion-MNIST classes 0–4, package and
/// sign it, start the embedded broker and a real agent, deploy over MQTT, personalize to the new
/// classes 5–9 from a few labelled samples (cold start), fine-tune the head, inject a real domain
/// shift (inverted intensities), let the agent detect it and adapt by itself, draw the pictures,
/// and print a summary whose every number came over MQTT.
/// </summary>
public sealed class DemoRunner(DemoOptions options, TextWriter output)
{
    private const string Fleet = "demo";
    private const string Device = "jetson-demo";
    private static readonly int[] SourceClasses = [0, 1, 2, 3, 4];
    private static readonly int[] NewClasses = [5, 6, 7, 8, 9];
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>Called with the embedded broker's port once it listens (an independent subscriber can join then).</summary>
    public Func<int, Task>? BrokerStarted { get; init; }

    /// <summary>The device's topics prefix (<c>edgetl/demo/jetson-demo</c>).</summary>
    public static string DevicePrefix => $"edgetl/{Fleet}/{Device}";

    /// <summary>Runs the demo; returns the summary.</summary>
    public async Task<DemoSummary> RunAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.OutputDirectory);
        var (package, key, sourceAccuracy) = Preparepackage();

        string agentDir = Path.Combine(options.OutputDirectory, "demo-agent");
        if (Directory.Exists(agentDir))
            Directory.Delete(agentDir, recursive: true);
        Directory.CreateDirectory(Path.Combine(agentDir, "keys"));
        await File.WriteAllTextAsync(Path.Combine(agentDir, "keys", "demo.pem"), key, cancellationToken).ConfigureAwait(false);

        await using var broker = await EmbeddedBroker.StartAsync(0, cancellationToken).ConfigureAwait(false);
        Step($"embedded MQTT broker on 127.0.0.1:{broker.Port}");
        if (BrokerStarted is { } started)
            await started(broker.Port).ConfigureAwait(false);
        await using var agent = new EdgeAgent(new AgentOptions
        {
            Fleet = Fleet,
            Device = Device,
            DataDirectory = Path.Combine(agentDir, "data"),
            TrustedKeysDirectory = Path.Combine(agentDir, "keys"),
            Broker = new BrokerOptions { Port = broker.Port },
            MaxLoadPerCore = 1000,   // the demo itself keeps the cores busy
            ColdStartShots = options.Shots,
        });
        await agent.StartAsync(cancellationToken).ConfigureAwait(false);
        // A command published before the agent has subscribed finds no subscriber, and MQTT drops it:
        // wait for the agent's first connect (subscriptions made, online state published).
        var connectDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (agent.Connection.ConnectCount == 0)
        {
            if (DateTime.UtcNow > connectDeadline)
                throw new TimeoutException($"The demo agent did not connect to the embedded broker on port {broker.Port} within 60 s.");
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
        await using var cloud = await AgentClient.ConnectAsync(broker.Port, Fleet, Device, cancellationToken).ConfigureAwait(false);
        cloud.IdPrefix = "demo";
        cloud.MetricReceived += (kind, m) =>
        {
            if (kind is "training" && m["data"]?["epoch"]?.GetValue<int>() is int epoch && (epoch + 1) % 5 == 0)
                Step($"  epoch {epoch + 1}: train loss {m["data"]!["trainLoss"]!.GetValue<double>():F3}, accuracy {m["data"]!["trainAccuracy"]!.GetValue<double>():P1}");
            if (kind is "drift")
                Step($"  drift test: MMD² {m["data"]!["mmd2"]!.GetValue<double>():F3}, p = {m["data"]!["pValue"]!.GetValue<double>():F3} → {(m["data"]!["drift"]!.GetValue<bool>() ? "DRIFT, " + m["data"]!["action"] : "no drift")}");
        };

        // Deploy over MQTT.
        Step("deploy over MQTT");
        var deployed = Ok(await cloud.SendAsync("deploy", new JsonObject { ["url"] = new Uri(Path.GetFullPath(package)).AbsoluteUri }, Timeout, cancellationToken).ConfigureAwait(false));
        Step($"  {deployed["message"]}");

        // Cold start on new classes from a few labelled samples.
        var train = FashionMnist.LoadTrain().SelectClasses(NewClasses);
        var test = FashionMnist.LoadTest().SelectClasses(NewClasses).SamplePerClass(options.TestPerClass, seed: 7);
        Ok(await cloud.SendAsync("set-config", new JsonObject
        {
            ["classes"] = new JsonArray([.. train.ClassNames.Select(n => (JsonNode)n)]),
            ["coldStartShots"] = options.Shots,
            ["drift"] = new JsonObject { ["windowSize"] = options.DriftWindow, ["autoAdapt"] = true, ["method"] = "auto", ["adaptSteps"] = 400 },
        }, Timeout, cancellationToken).ConfigureAwait(false));
        Step($"cold start: {options.Shots} labelled samples of each new class ({string.Join(", ", train.ClassNames)})");
        var pool = train.SamplePerClass(options.Shots + options.FinetunePerClass, seed: 3);
        var order = Enumerable.Range(0, pool.Count).OrderBy(i => i % (options.Shots + options.FinetunePerClass) >= options.Shots ? 1 : 0).ThenBy(i => i).ToList();
        foreach (int i in order.Take(options.Shots * NewClasses.Length))
            Ok(await cloud.SendAsync("ingest", Ingest(pool, i, "source", labelled: true), Timeout, cancellationToken).ConfigureAwait(false));
        var coldStart = await cloud.WaitForMetricAsync("coldstart", _ => true, Timeout, cancellationToken).ConfigureAwait(false);
        double toFirstModel = coldStart["data"]!["secondsFromDeploymentToFirstModel"]!.GetValue<double>();
        await agent.Jobs.WaitIdleAsync(cancellationToken).ConfigureAwait(false);
        double coldAccuracy = await AccuracyAsync(cloud, test, cancellationToken).ConfigureAwait(false);
        Step($"  first model {toFirstModel:F1} s after deployment ({coldStart["data"]!["method"]}); held-out accuracy {coldAccuracy:P1}");
        Step($"  {coldStart["data"]!["guard"]!["reason"]}");

        // More labels arrive: head-only fine-tune.
        Step($"head-only fine-tune with {options.FinetunePerClass} more labelled samples per class");
        foreach (int i in order.Skip(options.Shots * NewClasses.Length))
            Ok(await cloud.SendAsync("ingest", Ingest(pool, i, "source", labelled: true), Timeout, cancellationToken).ConfigureAwait(false));
        var tuned = await cloud.SendAsync("finetune", new JsonObject { ["mode"] = "head-only", ["epochs"] = 40, ["lr"] = 1e-3 }, Timeout, cancellationToken).ConfigureAwait(false);
        if (tuned["data"]?["promoted"] is null)
            Ok(tuned);   // anything but a guarded "not promoted" is an error
        double tunedAccuracy = await AccuracyAsync(cloud, test, cancellationToken).ConfigureAwait(false);
        Step($"  {tuned["message"]}");
        Step($"  held-out accuracy {tunedAccuracy:P1} (the fixed holdout is {tuned["data"]!["holdoutSamples"]} of the labelled samples, never trained on)");
        TrainingChart(tuned, Path.Combine(options.OutputDirectory, "finetune-curves.png"));

        // The device trains its backbone: progressive unfreezing (head, then stage4, then stage3) on the same labels.
        Step("progressive fine-tune on the device (head, then stage4, then stage3 of the served backbone)");
        // The device's defaults (30 epochs, lr 1e-3, head at 10×): the settings bench shifts measures.
        var progressive = await cloud.SendAsync("finetune", new JsonObject { ["mode"] = "progressive" }, Timeout, cancellationToken).ConfigureAwait(false);
        if (progressive["data"]?["promoted"] is null)
            Ok(progressive);   // anything but a guarded "not promoted" is an error
        double progressiveAccuracy = await AccuracyAsync(cloud, test, cancellationToken).ConfigureAwait(false);
        Step($"  {progressive["message"]}");
        if (progressive["data"]!["promoted"]!.GetValue<bool>())
            Step($"  promotion guard: {progressive["data"]!["guard"]!["reason"]}");
        Step($"  held-out accuracy {progressiveAccuracy:P1} ({(progressive["data"]!["promoted"]!.GetValue<bool>() ? "the device-made backbone serves" : "the served model stays")})");

        // The world changes: same garments, inverted intensities.
        var shiftedTest = Inverted(FashionMnist.LoadTest().SelectClasses(NewClasses).SamplePerClass(options.TestPerClass, seed: 8));
        double shiftedBefore = await AccuracyAsync(cloud, shiftedTest, cancellationToken).ConfigureAwait(false);
        int streamed = options.DriftWindow / NewClasses.Length + 4, perClass = streamed + options.ShiftedLabelsPerClass;
        var shiftedPool = Inverted(train.SamplePerClass(perClass, seed: 9));   // class by class: the first of each class stream in, the rest are labelled later
        var shifted = shiftedPool.Subset([.. Enumerable.Range(0, shiftedPool.Count).Where(i => i % perClass < streamed)]);
        var shiftedLabels = shiftedPool.Subset([.. Enumerable.Range(0, shiftedPool.Count).Where(i => i % perClass >= streamed)]);
        Step($"domain shift: {shifted.Count} inverted images stream in (a few labelled); accuracy on shifted held-out images {shiftedBefore:P1}");
        var before = FeaturesForPictures(agent, test, shiftedTest, adapted: false);
        for (int i = 0; i < shifted.Count; i++)
            Ok(await cloud.SendAsync("ingest", Ingest(shifted, i, "target", labelled: i % 12 == 0), Timeout, cancellationToken).ConfigureAwait(false));
        var drift = await cloud.WaitForMetricAsync("drift", m => m["data"]!["drift"]!.GetValue<bool>(), Timeout, cancellationToken).ConfigureAwait(false);
        var sinceDrift = Stopwatch.StartNew();
        var adaptation = await cloud.WaitForMetricAsync("adaptation", _ => true, Timeout, cancellationToken).ConfigureAwait(false);
        await agent.Jobs.WaitIdleAsync(cancellationToken).ConfigureAwait(false);
        var a = adaptation["data"]!;
        double secondsToLabelFree = sinceDrift.Elapsed.TotalSeconds;
        string localization = Localization(a["shift"]);
        Step($"  shift localized: {localization}");
        string renormalized = a["shift"]?["renormalized"] is JsonArray groups ? $" on {string.Join("+", groups.Select(g => g!.GetValue<string>()))}" : "";
        Step($"  label-free adaptation ({a["method"]}{renormalized}, {a["steps"]} steps): MMD² {a["mmd2Before"]!.GetValue<double>():F3} → {a["mmd2After"]!.GetValue<double>():F3}, {a["outcome"]}");
        Step($"  promotion guard ({a["guard"]!["test"]}): {a["guard"]!["reason"]}");
        double shiftedAfter = await AccuracyAsync(cloud, shiftedTest, cancellationToken).ConfigureAwait(false);
        Step($"  accuracy on shifted held-out images {shiftedBefore:P1} → {shiftedAfter:P1}");

        // A few shifted images get labels: surgical tuning (stem and stage1, where the shift was localized).
        Step($"{options.ShiftedLabelsPerClass} labelled inverted images per class arrive: surgical fine-tune (head, then stem and stage1)");
        for (int i = 0; i < shiftedLabels.Count; i++)
            Ok(await cloud.SendAsync("ingest", Ingest(shiftedLabels, i, "target", labelled: true), Timeout, cancellationToken).ConfigureAwait(false));
        var surgical = await cloud.SendAsync("finetune", new JsonObject { ["mode"] = "surgical" }, Timeout, cancellationToken).ConfigureAwait(false);
        if (surgical["data"]?["promoted"] is null)
            Ok(surgical);   // anything but a guarded "not promoted" is an error
        double? driftToPromotion = surgical["data"]!["promoted"]!.GetValue<bool>() ? sinceDrift.Elapsed.TotalSeconds
            : a["outcome"]!.GetValue<string>() == "promoted" ? secondsToLabelFree : null;
        var guard = surgical["data"]!["guard"]!;
        string surgicalOutcome = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{(surgical["data"]!["promoted"]!.GetValue<bool>() ? "promoted" : "not promoted")}, n = {guard["comparedOn"]}, bound {guard["lowerBound"]?.GetValue<double>():+0.000;-0.000}");
        Step($"  {surgical["message"]}");
        if (surgical["data"]!["promoted"]!.GetValue<bool>())
            Step($"  promotion guard: {guard["reason"]}");
        double surgicalShifted = await AccuracyAsync(cloud, shiftedTest, cancellationToken).ConfigureAwait(false);
        double surgicalClean = await AccuracyAsync(cloud, test, cancellationToken).ConfigureAwait(false);
        Step($"  held-out accuracy: shifted {shiftedAfter:P1} → {surgicalShifted:P1}, clean {surgicalClean:P1}");
        Step(driftToPromotion is { } s
            ? $"  from the drift event to a promoted model: {s:F1} s (the label-free step, the labels' arrival over MQTT and the surgical fine-tune)"
            : "  no adapted model was promoted after the drift event");
        if (surgical["data"]!["curve"]!.AsArray().Count > 0)
            TrainingChart(surgical, Path.Combine(options.OutputDirectory, "surgical-curves.png"), "Surgical fine-tune on the device (head, then stem and stage1)");
        var after = FeaturesForPictures(agent, test, shiftedTest, adapted: true);
        Pictures(before, after, test.ClassNames, a);

        return new DemoSummary
        {
            PretrainSourceAccuracy = sourceAccuracy,
            SecondsToFirstModel = toFirstModel,
            ColdStartShots = options.Shots,
            ColdStartAccuracy = coldAccuracy,
            FinetunedAccuracy = tunedAccuracy,
            ProgressiveAccuracy = progressiveAccuracy,
            ProgressiveOutcome = progressive["data"]!["promoted"]!.GetValue<bool>() ? "promoted" : "not promoted",
            ShiftedAccuracyBefore = shiftedBefore,
            ShiftedAccuracyAfter = shiftedAfter,
            ShiftLocalization = localization,
            LabelFreeMethod = a["method"]!.GetValue<string>(),
            SurgicalShiftedAccuracy = surgicalShifted,
            SurgicalCleanAccuracy = surgicalClean,
            SurgicalOutcome = surgicalOutcome,
            SecondsFromDriftToPromotion = driftToPromotion,
            TransferGain = a["transferGain"]!.GetValue<double>(),
            TransferGainKind = a["targetScoreKind"]!.GetValue<string>(),
            Mmd2Before = a["mmd2Before"]!.GetValue<double>(),
            Mmd2After = a["mmd2After"]!.GetValue<double>(),
            DriftPValue = drift["data"]!["pValue"]!.GetValue<double>(),
            AdaptationOutcome = a["outcome"]!.GetValue<string>(),
            TotalSeconds = clock.Elapsed.TotalSeconds,
        };
    }

    /// <summary>Pretrains and packages once; later runs reuse the signed package in the cache folder.</summary>
    private (string Package, string PublicKeyPem, double SourceAccuracy) Preparepackage()
    {
        string cache = Path.Combine(options.OutputDirectory, "demo-cache");
        string package = Path.Combine(cache, "fmnist-resnet18.tar");
        string keyFile = Path.Combine(cache, "demo.key.pem");
        string accuracyFile = Path.Combine(cache, "source-accuracy.txt");
        Directory.CreateDirectory(cache);
        if (File.Exists(package) && File.Exists(keyFile) && File.Exists(accuracyFile))
        {
            using var cached = SigningKey.FromPem(File.ReadAllText(keyFile));
            Step($"reusing the signed package {package} (delete {cache} to pretrain again)");
            return (package, cached.PublicPem(), double.Parse(File.ReadAllText(accuracyFile), System.Globalization.CultureInfo.InvariantCulture));
        }
        Step($"pretraining resnet18 on Fashion-MNIST classes 0–4 ({options.PretrainEpochs} epochs, 32 px)");
        var pretrain = new PretrainOptions { Architecture = "resnet18", Classes = SourceClasses, Epochs = options.PretrainEpochs, InputSize = 32 };
        var progress = new Trainer.Training.SyncProgress<Trainer.Training.EpochMetrics>(e =>
            Step($"  epoch {e.Epoch + 1}/{options.PretrainEpochs}: train loss {e.TrainLoss:F3}, validation accuracy {e.ValidationAccuracy:P1}"));
        var train = FashionMnist.LoadTrain();
        if (options.PretrainImagesPerClass > 0)
            train = train.SamplePerClass(options.PretrainImagesPerClass, seed: 0);
        var (model, result) = SourcePretraining.Run(train, FashionMnist.LoadTest(), pretrain, progress);
        using (model)
        {
            Step($"  source test accuracy {result.Test.Accuracy:P1}");
            using var key = SigningKey.Create();
            ModelPackager.Write(model, new PackageRequest
            {
                Name = "fmnist-resnet18",
                Version = "1.0.0",
                Counter = 1,
                Labels = result.ClassNames,
                Input = new ImagePipelineOptions { InputSize = 32 },
                GoldenImages = FashionMnist.LoadTest().SelectClasses(SourceClasses).SamplePerClass(1, seed: 1),
                IncludeFloat16 = false,
                Metrics = new Dictionary<string, double> { ["source_test_accuracy"] = result.Test.Accuracy },
            }, key, package);
            File.WriteAllText(keyFile, key.PrivatePem());
            File.WriteAllText(accuracyFile, result.Test.Accuracy.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            Step($"  packaged and signed: {package}");
            return (package, key.PublicPem(), result.Test.Accuracy);
        }
    }

    /// <summary>"input-level shift: peaks in stem (stem 1.53, stage1 0.083, …)" from an adaptation report's <c>shift</c>.</summary>
    private static string Localization(JsonNode? shift) => shift is null ? "not localized (the drift policy's method is not auto)" :
        $"{shift["level"]}-level shift: peaks in {shift["peakStage"]} ({string.Join(", ", shift["stages"]!.AsArray().Select(s =>
            $"{s!["stage"]} {s["mismatch"]!.GetValue<double>().ToString("G3", System.Globalization.CultureInfo.InvariantCulture)}"))}); with labels: {shift["withLabels"]}";

    private static JsonObject Ingest(LabeledImageSet set, int index, string domain, bool labelled) => new()
    {
        ["image"] = Convert.ToBase64String(Png(set, index)),
        ["label"] = labelled ? set.ClassNames[set.Labels[index]] : null,
        ["domain"] = domain,
    };

    /// <summary>Accuracy of the device's answers to <c>predict</c> for every image of <paramref name="set"/>.</summary>
    private static async Task<double> AccuracyAsync(AgentClient cloud, LabeledImageSet set, CancellationToken cancellationToken)
    {
        int correct = 0;
        for (int i = 0; i < set.Count; i++)
        {
            var r = Ok(await cloud.SendAsync("predict", new JsonObject { ["image"] = Convert.ToBase64String(Png(set, i)) }, Timeout, cancellationToken).ConfigureAwait(false));
            if (r["data"]!["label"]!.GetValue<string>() == set.ClassNames[set.Labels[i]])
                correct++;
        }
        return (double)correct / set.Count;
    }

    private static JsonObject Ok(JsonObject result) =>
        result["status"]?.GetValue<string>() == "ok" ? result : throw new AgentException(AgentErrorCode.InvalidConfiguration, $"The device answered: {result.ToJsonString()}");

    private static LabeledImageSet Inverted(LabeledImageSet set) => set.Inverted();

    private static byte[] Png(LabeledImageSet set, int index) => set.EncodePng(index);

    /// <summary>Backbone features (before) or the adapted head's embedding (after) of clean and shifted held-out images, for t-SNE.</summary>
    private static (double[][] Points, int[] Labels, int[] Domains) FeaturesForPictures(EdgeAgent agent, LabeledImageSet clean, LabeledImageSet shifted, bool adapted)
    {
        var images = Enumerable.Range(0, clean.Count).Select(i => Png(clean, i)).Concat(Enumerable.Range(0, shifted.Count).Select(i => Png(shifted, i))).ToList();
        var features = agent.Server.Extract(images);
        int count = images.Count;
        int dim = features.Length / count;
        float[][] rows = adapted && agent.Server.Head?.Embed(features, count) is { } embedded
            ? embedded
            : [.. Enumerable.Range(0, count).Select(i => features[(i * dim)..((i + 1) * dim)])];
        return ([.. rows.Select(r => r.Select(v => (double)v).ToArray())], [.. clean.Labels, .. shifted.Labels],
            [.. Enumerable.Repeat(0, clean.Count), .. Enumerable.Repeat(1, shifted.Count)]);
    }

    private void Pictures((double[][] Points, int[] Labels, int[] Domains) before, (double[][] Points, int[] Labels, int[] Domains) after,
        IReadOnlyList<string> classes, JsonNode adaptation)
    {
        string[] domains = ["clean", "shifted"];
        var tsne = new TsneOptions { Perplexity = 30, Seed = 1 };
        Charts.Embedding(Path.Combine(options.OutputDirectory, "tsne-before-adaptation.png"), Tsne.Embed(before.Points, tsne), before.Labels, classes, before.Domains, domains,
            "t-SNE of backbone features before adaptation");
        Charts.Embedding(Path.Combine(options.OutputDirectory, "tsne-after-adaptation.png"), Tsne.Embed(after.Points, tsne), after.Labels, classes, after.Domains, domains,
            "t-SNE of the adapted embedding");
        var curve = adaptation["curve"]!.AsArray().Select(p => new AdaptationCurvePoint(p!["step"]!.GetValue<int>(), p["sourceLoss"]!.GetValue<double>(),
            p["sourceAccuracy"]!.GetValue<double>(), p["targetLoss"]?.GetValue<double>(), p["targetAccuracy"]?.GetValue<double>(),
            p["transferLoss"]!.GetValue<double>(), p["weight"]!.GetValue<double>(), p["reversal"]!.GetValue<double>())).ToList();
        if (curve.Count > 0)
            Charts.Curves(Path.Combine(options.OutputDirectory, "adaptation-curves.png"), curve);
        if (adaptation["shift"] is { } shift)
            Charts.StageMismatch(Path.Combine(options.OutputDirectory, "shift-localization.png"),
                [.. shift["stages"]!.AsArray().Select(s => (s!["stage"]!.GetValue<string>(), s["mismatch"]!.GetValue<double>()))],
                $"Where the shift shows: {shift["level"]}-level, peak in {shift["peakStage"]}");
        Step($"pictures written to {Path.GetFullPath(options.OutputDirectory)}");
    }

    private static void TrainingChart(JsonObject finetune, string path, string title = "Head-only fine-tune on the device")
    {
        var points = finetune["data"]!["curve"]!.AsArray()
            .Select(p => (p!["epoch"]!.GetValue<int>(), p["trainLoss"]!.GetValue<double>(), p["trainAccuracy"]!.GetValue<double>())).ToList();
        Charts.TrainingCurve(path, points, title);
    }

    private void Step(string line)
    {
        output.WriteLine(line);
        output.Flush();
    }
}
