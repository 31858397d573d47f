using EdgeTL.Agent.Hosting;
using Microsoft.Extensions.Configuration;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary>The promotion guard's settings: their defaults, their ranges named at start, and binding from configuration.</summary>
public sealed class PromotionSettingsTests
{
    [Fact]
    public void The_defaults_are_20_holdout_samples_2_points_and_label_free_allowed()
    {
        var options = new AgentOptions();

        Assert.Equal((20, 0.02, true), (options.MinHoldout, options.PromotionTolerance, options.AllowLabelFreePromotion));
        Assert.Empty(options.Problems());
    }

    [Theory]
    [InlineData(0, 0.02, "Agent:MinHoldout 0 must be between 1 and 100000.")]
    [InlineData(-5, 0.02, "Agent:MinHoldout -5 must be between 1 and 100000.")]
    [InlineData(100_001, 0.02, "Agent:MinHoldout 100001 must be between 1 and 100000.")]
    [InlineData(20, -0.01, "Agent:PromotionTolerance -0.01 must be between 0 and 0.5 (accuracy as a fraction; 0.02 is 2 points).")]
    [InlineData(20, 2.0, "Agent:PromotionTolerance 2 must be between 0 and 0.5 (accuracy as a fraction; 0.02 is 2 points).")]
    [InlineData(20, double.NaN, "Agent:PromotionTolerance NaN must be between 0 and 0.5 (accuracy as a fraction; 0.02 is 2 points).")]
    public void Out_of_range_guard_settings_are_named_at_start(int minHoldout, double tolerance, string problem) =>
        Assert.Equal([problem], new AgentOptions { MinHoldout = minHoldout, PromotionTolerance = tolerance }.Problems());

    [Fact]
    public void The_guard_settings_bind_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:MinHoldout"] = "50",
            ["Agent:PromotionTolerance"] = "0.01",
            ["Agent:AllowLabelFreePromotion"] = "false",
        }).Build();

        var options = configuration.GetSection("Agent").Get<AgentOptions>()!;

        Assert.Equal((50, 0.01, false), (options.MinHoldout, options.PromotionTolerance, options.AllowLabelFreePromotion));
    }
}
