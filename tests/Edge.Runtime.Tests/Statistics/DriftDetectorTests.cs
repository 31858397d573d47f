using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Statistics;
using EdgeTL.Runtime.Tests.Features;

namespace EdgeTL.Runtime.Tests.Statistics;

/// <summary>
/// The drift detector on Fashion-MNIST features (all 1,000 bundled test images through a
/// small seeded CNN backbone run by ONNX Runtime), windows of 50 against a reference window of
/// 50, the detector's defaults (α = 0.01, 200 permutations, PSI threshold 0.25).
/// </summary>
public sealed class DriftDetectorTests
{
    private const int Window = 50;
    private static readonly Lazy<(float[] Clean, float[] Shifted, int[] Labels)> Pools = new(Extract);

    private static (float[] Clean, float[] Shifted, int[] Labels) Extract()
    {
        var test = FashionMnist.LoadTest();
        var extractor = FeatureTests.Extractor(batch: 100);
        var clean = extractor.Extract(test);
        // A real capture shift: a darker, lower-contrast camera (x → 0.6·x + 20).
        var shifted = new List<(byte[], int, int, int)>();
        for (int i = 0; i < test.Count; i++)
            shifted.Add(([.. test.Image(i).ToArray().Select(p => (byte)((0.6 * p) + 20))], 28, 28, 1));
        return (clean, extractor.ExtractRaw(shifted), test.Labels);
    }

    [Fact]
    public void False_alarms_stay_at_or_below_five_percent_over_100_same_distribution_window_pairs()
    {
        var (clean, _, _) = Pools.Value;
        int alarms = 0;
        var random = new Random(11);
        for (int pair = 0; pair < 100; pair++)
        {
            var order = Shuffled(clean.Length / 32, random);
            var detector = new DriftDetector(32, new DriftOptions { WindowSize = Window, Seed = pair });
            detector.SetReference(Rows(clean, order.Take(Window)));
            if (detector.Check(Rows(clean, order.Skip(Window).Take(Window))).Drift)
                alarms++;
        }
        Console.WriteLine($"false alarms: {alarms}/100 at window {Window}");
        Assert.True(alarms <= 5, $"{alarms} false alarms in 100");
    }

    [Fact]
    public void A_brightness_and_contrast_shift_is_detected_in_at_least_95_percent_of_windows()
    {
        var (clean, shifted, _) = Pools.Value;
        int detected = 0;
        double weight = 0;
        var random = new Random(12);
        for (int pair = 0; pair < 100; pair++)
        {
            var order = Shuffled(clean.Length / 32, random);
            var detector = new DriftDetector(32, new DriftOptions { WindowSize = Window, Seed = pair });
            detector.SetReference(Rows(clean, order.Take(Window)));
            var report = detector.Check(Rows(shifted, order.Skip(Window).Take(Window)));
            detected += report.Drift ? 1 : 0;
            weight += report.AdaptiveWeight;
        }
        Console.WriteLine($"brightness/contrast shift detected in {detected}/100 windows of {Window}; mean adaptive weight {weight / 100:F3}");
        Assert.True(detected >= 95, $"{detected}/100");
    }

    [Fact]
    public void A_class_mix_change_is_detected_by_features_and_by_the_PSI_of_predictions()
    {
        var (clean, _, labels) = Pools.Value;
        int detected = 0, psiFired = 0;
        var random = new Random(13);
        var tops = Enumerable.Range(0, labels.Length).Where(i => labels[i] < 5).ToArray();   // tops, trousers, pullovers, dresses, coats
        for (int pair = 0; pair < 100; pair++)
        {
            var order = Shuffled(labels.Length, random);
            var reference = order.Take(Window).ToArray();
            var window = tops.OrderBy(_ => random.Next()).Take(Window).ToArray();
            var detector = new DriftDetector(32, new DriftOptions { WindowSize = Window, Seed = pair });
            // Labels stand in for a classifier's predictions here.
            detector.SetReference(Rows(clean, reference), [.. reference.Select(i => labels[i])], 10);
            var report = detector.Check(Rows(clean, window), [.. window.Select(i => labels[i])]);
            detected += report.Drift ? 1 : 0;
            psiFired += report.Reasons.Contains("psi") ? 1 : 0;
        }
        Console.WriteLine($"class-mix change detected in {detected}/100 windows (PSI fired in {psiFired})");
        Assert.True(detected >= 95, $"{detected}/100");
    }

    private static int[] Shuffled(int count, Random random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return order;
    }

    private static float[] Rows(float[] features, IEnumerable<int> indices) =>
        [.. indices.SelectMany(i => features.AsSpan(i * 32, 32).ToArray())];
}
