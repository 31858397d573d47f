using EdgeTL.Agent.Deployment;
using EdgeTL.Agent.Tests.Integration;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Packaging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent.Tests.Deployment;

/// <summary>
/// <see cref="Int8Gate"/> on a real package with an int8 backbone added (<see cref="Int8Packaging"/>): every way int8 can be refused
/// keeps fp32 and says why, and with enough rows the agreement test chooses int8. The whole flow over MQTT, with a
/// trained model, is <c>Int8DeploymentTests</c> in the cloud's tests.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class Int8GateTests(DeploymentPackages packages) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-int8-gate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_package_without_an_int8_backbone_serves_as_it_is_with_no_choice()
    {
        var installed = Install(packages.First, "plain");
        var fp32 = ServedModel.Open(installed);
        var (served, choice) = Gate().Choose(fp32, (_, n) => new string[n], () => throw new InvalidOperationException("nothing to measure"));
        Assert.Same(fp32, served);
        Assert.Null(choice);
        served.Dispose();
    }

    [Fact]
    public void Int8_golden_features_that_do_not_match_fail_the_health_gate_and_fp32_serves()
    {
        using var fp32 = ServedModel.Open(Install(packages.WithInt8("damaged", budgetPoints: 100, goldenOffset: 5f), "damaged"));
        var (served, choice) = Gate().Choose(fp32, ClassifyWith(fp32), () => Evidence(40));
        Assert.Same(fp32, served);
        Assert.Equal(PrecisionChoice.FullPrecision, choice!.Served);
        Assert.Contains("failed the health gate", choice.Reason, StringComparison.Ordinal);
        Assert.True(choice.GoldenMaxAbsDifference > 4);
    }

    [Fact]
    public void Without_a_classifier_or_with_too_few_rows_fp32_serves_and_says_why()
    {
        string package = packages.WithInt8("few", budgetPoints: 100);
        using var fp32 = ServedModel.Open(Install(package, "few"));
        var (served, noClassifier) = Gate().Choose(fp32, null, () => Evidence(40));
        Assert.Same(fp32, served);
        Assert.Contains("nothing classifies yet", noClassifier!.Reason, StringComparison.Ordinal);

        // 2 golden inputs and 10 recent images are 12 rows < MinHoldout 20.
        var (again, tooFew) = Gate().Choose(fp32, ClassifyWith(fp32), () => Evidence(10));
        Assert.Same(fp32, again);
        Assert.Equal(("agreement", 12), (tooFew!.Test, tooFew.N));
        Assert.Contains("too few samples", tooFew.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void With_enough_rows_the_agreement_test_decides_and_int8_serves_within_budget()
    {
        string package = packages.WithInt8("agree", budgetPoints: 100);
        var fp32 = ServedModel.Open(Install(package, "agree"));
        var (served, choice) = Gate().Choose(fp32, ClassifyWith(fp32), () => Evidence(40));
        using (served)
        {
            Assert.True(served.IsInt8);
            Assert.Equal("int8", served.Precision);
            Assert.Equal((PrecisionChoice.Quantized, "agreement", 42), (choice!.Served, choice.Test, choice.N));
            Assert.Equal(1.0, choice.Fp32Accuracy);   // fp32's own predictions are the labels
            Assert.Equal(-(1 - choice.Int8Accuracy!.Value), choice.LowerBound!.Value, 1e-9);   // int8 can only lose: the bound is minus its disagreement
        }
    }

    [Fact]
    public void The_manifest_refuses_an_int8_file_without_its_section_and_a_section_without_its_files()
    {
        var manifest = ModelPackage.Verify(packages.WithInt8("manifest", budgetPoints: 1), packages.Trusted).Manifest;
        Assert.Empty(manifest.Problems());
        Assert.Contains((manifest with { Quantized = null }).Problems(), p => p.Contains("without the manifest's int8 section", StringComparison.Ordinal));
        var noFiles = manifest with { Files = [.. manifest.Files.Where(f => f.Role != PackageFileRoles.BackboneInt8)] };
        Assert.Contains(noFiles.Problems(), p => p.Contains("without both the int8 backbone", StringComparison.Ordinal));
        Assert.Contains((manifest with { Quantized = manifest.Quantized! with { AccuracyBudgetPoints = 101, Method = "guess" } }).Problems(),
            p => p.Contains("budget", StringComparison.Ordinal));
    }

    private static Int8Gate Gate() => new(new HealthGate(new HealthGateOptions { LatencyBudget = TimeSpan.FromSeconds(10) }), minRows: 20, sessions: null, NullLogger.Instance);

    private static Func<float[], int, string[]> ClassifyWith(ServedModel model) =>
        (features, count) => [.. model.Predictor!.FromFeatures(features, count).Select(p => p.Label)];

    private static Int8Evidence Evidence(int recent)
    {
        var images = SampleImages.FirstFiveClasses(perClass: 8, seed: 21);
        return new Int8Evidence([], [.. Enumerable.Range(0, recent).Select(i => SampleImages.Png(images, i))]);
    }

    private InstalledModel Install(string package, string store) => new ModelStore(Path.Combine(_dir, store + ".store"), packages.Trusted).Install(package);
}
