using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Runtime.Tests.Packaging;

/// <summary><see cref="ModelStore.InstallLocal"/>: a version made on the device from the served package.</summary>
public sealed class DeviceMadeVersionTests : IDisposable
{
    private readonly PackageFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void A_device_made_version_replaces_the_backbone_keeps_the_rest_is_traced_to_its_parent_and_rolls_back_to_it()
    {
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var parent = store.Install(_f.Build("pkg.tar", counter: 4, version: "1.4.0"));
        string tuned = Path.Combine(_f.Root, "tuned.onnx");
        File.WriteAllBytes(tuned, [1, 2, 3, 4, 5]);
        var origin = new DeviceOrigin(4, "1.4.0", "op-17", "progressive", DateTimeOffset.UnixEpoch, SamplesThrough: 120, HoldoutSeen: false);

        string[] deviceClasses = ["sandal", "shirt", "sneaker", "bag", "ankle boot"];
        var local = store.InstallLocal(parent, new Dictionary<string, string> { [PackageFileRoles.Backbone] = tuned }, [PackageFileRoles.Weights], "1.4.0+device.1", origin,
            deviceClasses);

        Assert.Equal(local.Directory, store.Current!.Directory);
        Assert.Equal(parent.Directory, store.Previous!.Directory);
        var manifest = store.Current.Manifest;
        Assert.Equal(4, manifest.Counter);
        Assert.Equal("1.4.0+device.1", manifest.Version);
        Assert.Equal(origin, manifest.DeviceMade);
        Assert.Equal("fmnist-resnet18@1.4.0", manifest.Provenance!.BaseModel);
        Assert.Equal(deviceClasses, manifest.Labels);   // its head outputs the device's classes, not the package's
        Assert.Equal([1, 2, 3, 4, 5], File.ReadAllBytes(store.Current.PathOf(PackageFileRoles.Backbone)!));
        Assert.Equal(File.ReadAllBytes(_f.Source("head.onnx")), File.ReadAllBytes(store.Current.PathOf(PackageFileRoles.Head)!));
        Assert.Null(store.Current.PathOf(PackageFileRoles.Weights));
        Assert.Null(ModelStore.FindDamage(store.Current));
        // Read back from disk, as a restart does: still device-made, complete.
        var reopened = store.OpenVerified(out string? repair);
        Assert.Null(repair);
        Assert.Equal(origin, reopened!.Manifest.DeviceMade);   // with its training horizon
        Assert.Equal(120, reopened.Manifest.DeviceMade!.SamplesThrough);

        var back = store.RollBack();
        Assert.Equal(parent.Directory, back!.Directory);
        Assert.Null(store.Current.Manifest.DeviceMade);
    }

    [Fact]
    public void The_origin_vouches_only_for_samples_past_its_horizon_and_for_holdout_rows_no_head_of_it_saw()
    {
        var fineTuned = new DeviceOrigin(4, "1.4.0", "op-20", "surgical", DateTimeOffset.UnixEpoch, SamplesThrough: 100, HoldoutSeen: false);
        Assert.False(fineTuned.NeverTrainedOn(100, holdout: false));   // a train-part row it could have trained on
        Assert.True(fineTuned.NeverTrainedOn(101, holdout: false));
        Assert.True(fineTuned.NeverTrainedOn(50, holdout: true));      // fine-tunes never train on the holdout, and its head did not either

        var overColdStart = fineTuned with { HoldoutSeen = true };      // it carries a cold-start head, which fitted every labelled row
        Assert.False(overColdStart.NeverTrainedOn(50, holdout: true));
        Assert.True(overColdStart.NeverTrainedOn(101, holdout: true));

        var unrecorded = new DeviceOrigin(4, "1.4.0", "op-21", "bn", DateTimeOffset.UnixEpoch);   // made before the horizon was recorded
        Assert.False(unrecorded.NeverTrainedOn(1_000_000, holdout: false));
        Assert.False(unrecorded.NeverTrainedOn(1_000_000, holdout: true));
    }

    [Fact]
    public void A_role_the_parent_lacks_is_added_and_a_new_cloud_package_installs_over_the_device_made_version()
    {
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var parent = store.Install(_f.Build("pkg.tar", counter: 4));
        string head = Path.Combine(_f.Root, "head-init.onnx");
        File.WriteAllBytes(head, [9, 9]);
        var local = store.InstallLocal(parent, new Dictionary<string, string> { [PackageFileRoles.HeadInitialization] = head }, [],
            "1.0.0+device.2", new DeviceOrigin(4, "1.0.0", "op-18", "surgical", DateTimeOffset.UnixEpoch));
        Assert.Equal([9, 9], File.ReadAllBytes(local.PathOf(PackageFileRoles.HeadInitialization)!));

        var next = store.Install(_f.Build("next.tar", counter: 5, version: "1.5.0"));

        Assert.Equal(next.Directory, store.Current!.Directory);
        Assert.Null(store.Current.Manifest.DeviceMade);
        Assert.Equal(local.Directory, store.Previous!.Directory);
    }

    [Fact]
    public void A_version_that_is_not_semantic_is_refused_and_the_parent_stays_current()
    {
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var parent = store.Install(_f.Build("pkg.tar", counter: 4));
        var error = Assert.Throws<EdgeRuntimeException>(() => store.InstallLocal(parent, new Dictionary<string, string>(), [], "tuned",
            new DeviceOrigin(4, "1.0.0", "op-19", "progressive", DateTimeOffset.UnixEpoch)));
        Assert.Contains("not semantic", error.Message, StringComparison.Ordinal);
        Assert.Equal(parent.Directory, store.Current!.Directory);
        Assert.Empty(Directory.GetDirectories(store.Root, ".staging-*"));
    }
}
