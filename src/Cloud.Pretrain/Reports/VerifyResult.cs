namespace EdgeTL.Cloud;

/// <summary>The machine-readable result of <c>verify --json</c>.</summary>
/// <param name="Valid">True when a device would accept the package.</param>
/// <param name="Reason">Why it is refused (a <c>PackageRejection</c> name), when it is.</param>
/// <param name="Message">The refusal in words.</param>
/// <param name="Package">The verified package.</param>
internal sealed record VerifyResult(bool Valid, string? Reason, string? Message, PackageSummary? Package);
