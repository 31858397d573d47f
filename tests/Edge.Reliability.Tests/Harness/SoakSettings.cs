namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// The sizes of the fault tests. CI runs the short defaults; <c>bench/soak.sh</c> sets these
/// variables to RELIABILITY.md's full figures (same tests, same pass criteria).
/// </summary>
public static class SoakSettings
{
    /// <summary>R1: seconds the broker stays down (EDGETL_R1_OUTAGE_S; full run 600).</summary>
    public static int OutageSeconds => Read("EDGETL_R1_OUTAGE_S", 5);

    /// <summary>R2: SIGKILLs during the outage (EDGETL_R2_KILLS; full run 20).</summary>
    public static int KillsDuringOutage => Read("EDGETL_R2_KILLS", 2);

    /// <summary>R3: connection flaps (EDGETL_R3_FLAPS; RELIABILITY.md's row is 50, the soak runs 500).</summary>
    public static int ConnectionFlaps => Read("EDGETL_R3_FLAPS", 50);

    /// <summary>R5: SIGKILLs during model swaps (EDGETL_R5_KILLS; full run 200).</summary>
    public static int SwapKills => Read("EDGETL_R5_KILLS", 50);

    /// <summary>R5 on the device-made path: SIGKILLs during export and install of device versions.</summary>
    public static int DeviceSwapKills => Read("EDGETL_R5_DEVICE_KILLS", 30);

    /// <summary>R10: seconds of 100 commands per second (EDGETL_R10_SECONDS; full run 60).</summary>
    public static int BurstSeconds => Read("EDGETL_R10_SECONDS", 5);

    /// <summary>R11: hostile commands (EDGETL_R11_CASES; full run 100,000).</summary>
    public static int FuzzCases => Read("EDGETL_R11_CASES", 10_000);

    private static int Read(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) && value > 0 ? value : fallback;
}
