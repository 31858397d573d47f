using System.Text;
using System.Text.Json;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Runtime.Tests.Packaging;

public sealed class ModelPackageTests : IDisposable
{
    private readonly PackageFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_signed_package_verifies_installs_and_keeps_its_bytes(bool asDirectory)
    {
        string package = _f.Build(asDirectory ? "pkg" : "pkg.tar", counter: 3, asDirectory);
        var verified = ModelPackage.Verify(package, _f.Trusted);
        Assert.Equal(3, verified.Manifest.Counter);
        Assert.Equal(3, verified.Manifest.Files.Count);
        Assert.Equal(ModelPackage.HashFile(_f.Source("head.onnx")), verified.Manifest.FileFor(PackageFileRoles.Head)!.Sha256);

        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var installed = store.Install(package);
        Assert.Equal(installed.Directory, store.Current!.Directory);
        foreach (var (name, role, _) in _f.Files)
            Assert.Equal(File.ReadAllBytes(_f.Source(name)), File.ReadAllBytes(installed.PathOf(role)!));
        Assert.Equal(0.884, store.Current.Manifest.Metrics["sourceAccuracy"]);
    }

    [Fact]
    public void The_same_content_gives_the_same_package_bytes_except_the_signature()
    {
        static Dictionary<string, byte[]> Entries(string path)
        {
            var entries = new Dictionary<string, byte[]>();
            using var stream = File.OpenRead(path);
            StrictTar.Read(stream, new PackageLimits(), (entry, data) =>
            {
                var bytes = new byte[entry.Size];
                data.ReadExactly(bytes);
                entries[entry.Name] = bytes;
            });
            return entries;
        }
        var a = Entries(_f.Build("a.tar", 1));
        var b = Entries(_f.Build("b.tar", 1));
        Assert.Equal(a.Keys, b.Keys);
        foreach (var name in a.Keys.Where(n => n != ManifestFiles.Signature))
            Assert.Equal(a[name], b[name]);
        // ECDSA signatures are randomized; both verify.
        Assert.NotEqual(a[ManifestFiles.Signature], b[ManifestFiles.Signature]);
    }

    /// <summary>
    /// Flips one bit at each of ≥ 1,000 offsets spread over the whole archive and asserts the
    /// exact reason from where the offset falls: a header, padding or the end marker →
    /// Malformed; the manifest or the signature → BadSignature (UntrustedKey inside the key
    /// id, unless the flip makes a character JSON cannot hold); a listed file → HashMismatch. The installed model stays current every time.
    /// </summary>
    [Fact]
    public void Bit_flips_at_a_thousand_offsets_are_each_refused_for_the_exact_reason()
    {
        string good = _f.Build("good.tar", counter: 1);
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var installed = store.Install(good);
        byte[] bytes = File.ReadAllBytes(good);
        var regions = Regions(bytes);
        var offsets = Enumerable.Range(0, 1200).Select(i => (long)i * bytes.Length / 1200)
            .Concat(regions.Select(r => r.Start)).Concat(regions.Select(r => r.End - 1)).Distinct().ToList();
        Assert.True(offsets.Count >= 1000);
        string tampered = Path.Combine(_f.Root, "tampered.tar");
        var counts = new Dictionary<PackageRejection, int>();
        foreach (long offset in offsets)
        {
            var copy = (byte[])bytes.Clone();
            copy[offset] ^= (byte)(1 << (int)(offset % 8));
            File.WriteAllBytes(tampered, copy);
            var expected = regions.Single(r => offset >= r.Start && offset < r.End).Reason;
            // Inside the key id, a flip to a character JSON cannot hold in a string breaks the signature file itself.
            byte flipped = copy[offset];
            if (expected == PackageRejection.UntrustedKey && (flipped < 0x20 || flipped >= 0x80 || flipped is (byte)'"' or (byte)'\\'))
                expected = PackageRejection.BadSignature;
            var error = Record.Exception(() => store.Install(tampered)) as PackageRejectedException;
            Assert.True(error is not null, $"offset {offset}: a flip was accepted");
            Assert.True(expected == error.Reason, $"offset {offset}: expected {expected}, got {error.Reason}: {error.Message}");
            counts[error.Reason] = counts.GetValueOrDefault(error.Reason) + 1;
            Assert.Equal(installed.Directory, store.Current!.Directory);
        }
        Assert.True(counts.Keys.Count >= 3, string.Join(", ", counts));
        Assert.Empty(Directory.GetDirectories(store.Root, ".staging-*"));
    }

    [Fact]
    public void Truncation_at_ten_points_is_refused_as_truncated()
    {
        string good = _f.Build("good.tar", counter: 1);
        byte[] bytes = File.ReadAllBytes(good);
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var installed = store.Install(good);
        string cut = Path.Combine(_f.Root, "cut.tar");
        foreach (int point in new[] { 0, 1, 511, 512, 700, bytes.Length / 3, bytes.Length / 2, bytes.Length - 1025, bytes.Length - 512, bytes.Length - 1 })
        {
            File.WriteAllBytes(cut, bytes[..point]);
            var error = Assert.Throws<PackageRejectedException>(() => store.Install(cut));
            Assert.True(error.Reason == PackageRejection.Truncated, $"cut at {point}: {error.Reason}: {error.Message}");
            Assert.Equal(installed.Directory, store.Current!.Directory);
        }
    }

    [Fact]
    public void A_package_signed_by_an_untrusted_key_is_refused_and_the_model_stays()
    {
        var (store, installed) = StoreWithModel();
        using var stranger = SigningKey.Create();
        string package = _f.Build("stranger.tar", 2, key: stranger);
        var error = Assert.Throws<PackageRejectedException>(() => store.Install(package));
        Assert.Equal(PackageRejection.UntrustedKey, error.Reason);
        Assert.Contains(stranger.KeyId, error.Message, StringComparison.Ordinal);
        Assert.Equal(installed.Directory, store.Current!.Directory);
    }

    [Fact]
    public void Several_trusted_keys_allow_rotation()
    {
        using var next = SigningKey.Create();
        using var both = new TrustedKeys([SigningKey.FromPem(_f.Key.PublicPem()), SigningKey.FromPem(next.PublicPem())]);
        Assert.Equal(2, ModelPackage.Verify(_f.Build("new.tar", 2, key: next), both).Manifest.Counter);
        Assert.Equal(1, ModelPackage.Verify(_f.Build("old.tar", 1), both).Manifest.Counter);
    }

    [Fact]
    public void A_valid_signature_over_other_bytes_is_refused_and_the_model_stays()
    {
        var (store, installed) = StoreWithModel();
        string package = _f.Build("pkg", 2, asDirectory: true);
        // A genuine signature by the trusted key, but of a different manifest.
        var other = _f.Key.Sign(Encoding.UTF8.GetBytes("{\"counter\": 99}"));
        File.WriteAllText(Path.Combine(package, ManifestFiles.Signature), JsonSerializer.Serialize(new { keyId = other.KeyId, algorithm = other.Algorithm, signature = other.Signature }));
        var error = Assert.Throws<PackageRejectedException>(() => store.Install(package));
        Assert.Equal(PackageRejection.BadSignature, error.Reason);
        Assert.Equal(installed.Directory, store.Current!.Directory);
    }

    [Fact]
    public void A_re_encoded_signature_with_the_same_bytes_is_refused()
    {
        string package = _f.Build("pkg", 1, asDirectory: true);
        string sigPath = Path.Combine(package, ManifestFiles.Signature);
        var sig = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(sigPath));
        string signature = sig.GetProperty("signature").GetString()!;
        // 64 bytes → 88 characters ending in "==": the last data character carries 4 unused bits.
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int last = signature.Length - 3;
        char other = alphabet[alphabet.IndexOf(signature[last], StringComparison.Ordinal) ^ 1];
        string malleated = signature[..last] + other + signature[(last + 1)..];
        Assert.Equal(Convert.FromBase64String(signature), Convert.FromBase64String(malleated));
        File.WriteAllText(sigPath, JsonSerializer.Serialize(new { keyId = sig.GetProperty("keyId").GetString(), algorithm = sig.GetProperty("algorithm").GetString(), signature = malleated }));
        var error = Assert.Throws<PackageRejectedException>(() => ModelPackage.Verify(package, _f.Trusted));
        Assert.Equal(PackageRejection.BadSignature, error.Reason);
        Assert.Contains("canonical", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_single_bit_flip_in_the_signature_file_is_refused()
    {
        string package = _f.Build("pkg", 1, asDirectory: true);
        string sigPath = Path.Combine(package, ManifestFiles.Signature);
        byte[] good = File.ReadAllBytes(sigPath);
        var accepted = new List<string>();
        for (int i = 0; i < good.Length; i++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] bad = (byte[])good.Clone();
                bad[i] ^= (byte)(1 << bit);
                File.WriteAllBytes(sigPath, bad);
                try
                {
                    ModelPackage.Verify(package, _f.Trusted);
                    accepted.Add($"byte {i} ('{(char)good[i]}' → '{(char)bad[i]}')");
                }
                catch (PackageRejectedException)
                {
                }
            }
        }
        File.WriteAllBytes(sigPath, good);
        Assert.Empty(accepted);
    }

    [Fact]
    public void A_version_rollback_is_refused_and_the_newer_model_stays()
    {
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var v5 = store.Install(_f.Build("v5.tar", 5, version: "1.5.0"));
        var error = Assert.Throws<PackageRejectedException>(() => store.Install(_f.Build("v4.tar", 4, version: "1.4.0")));
        Assert.Equal(PackageRejection.Rollback, error.Reason);
        Assert.Contains("lower than the installed 5", error.Message, StringComparison.Ordinal);
        Assert.Equal(v5.Directory, store.Current!.Directory);
        Assert.Equal(5, store.InstalledCounter);
    }

    [Fact]
    public void A_zip_slip_entry_is_refused_before_anything_is_written()
    {
        string good = _f.Build("good.tar", 1);
        string evil = Path.Combine(_f.Root, "evil.tar");
        WithExtraEntry(good, evil, StrictTar.Header("../escaped.txt", 5, '0'), "owned");
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var error = Assert.Throws<PackageRejectedException>(() => store.Install(evil));
        Assert.Equal(PackageRejection.PathTraversal, error.Reason);
        Assert.False(File.Exists(Path.Combine(_f.Root, "escaped.txt")));
        Assert.False(File.Exists(Path.Combine(store.Root, "escaped.txt")));
        Assert.Null(store.Current);
    }

    [Fact]
    public void Links_are_refused_in_archives_and_directories()
    {
        string good = _f.Build("good.tar", 1);
        string linked = Path.Combine(_f.Root, "linked.tar");
        WithExtraEntry(good, linked, StrictTar.Header("etc-passwd", 0, '2', "/etc/passwd"), "");
        Assert.Equal(PackageRejection.Link, Assert.Throws<PackageRejectedException>(() => ModelPackage.Verify(linked, _f.Trusted)).Reason);

        string dir = _f.Build("pkg", 1, asDirectory: true);
        File.Delete(Path.Combine(dir, "head.onnx"));
        File.CreateSymbolicLink(Path.Combine(dir, "head.onnx"), _f.Source("head.onnx"));
        Assert.Equal(PackageRejection.Link, Assert.Throws<PackageRejectedException>(() => ModelPackage.Verify(dir, _f.Trusted)).Reason);
    }

    [Fact]
    public void Oversize_entries_are_refused_from_their_header_and_the_model_stays()
    {
        var (store, installed) = StoreWithModel();
        string good = _f.Build("good.tar", 2);
        var small = new ModelStore(store.Root, _f.Trusted, new PackageLimits { MaxFileBytes = 10_000 });
        var error = Assert.Throws<PackageRejectedException>(() => small.Install(good));
        Assert.Equal(PackageRejection.TooLarge, error.Reason);
        Assert.Contains("backbone.onnx", error.Message, StringComparison.Ordinal);
        Assert.Equal(installed.Directory, small.Current!.Directory);

        // A header announcing 600 MiB, with no data behind it: refused before any read.
        string huge = Path.Combine(_f.Root, "huge.tar");
        WithExtraEntry(good, huge, StrictTar.Header("big.bin", 600L << 20, '0'), "");
        Assert.Equal(PackageRejection.TooLarge, Assert.Throws<PackageRejectedException>(() => ModelPackage.Verify(huge, _f.Trusted)).Reason);
    }

    [Fact]
    public void Directory_packages_refuse_changed_missing_and_extra_files()
    {
        string dir = _f.Build("pkg", 1, asDirectory: true);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "hello");
        Assert.Equal(PackageRejection.UnexpectedFile, Assert.Throws<PackageRejectedException>(() => ModelPackage.Verify(dir, _f.Trusted)).Reason);
        File.Delete(Path.Combine(dir, "notes.txt"));
        var bytes = File.ReadAllBytes(Path.Combine(dir, "head.onnx"));
        bytes[100] ^= 4;
        File.WriteAllBytes(Path.Combine(dir, "head.onnx"), bytes);
        Assert.Equal(PackageRejection.HashMismatch, Assert.Throws<PackageRejectedException>(() => ModelPackage.Verify(dir, _f.Trusted)).Reason);
        File.Delete(Path.Combine(dir, "head.onnx"));
        Assert.Equal(PackageRejection.MissingFile, Assert.Throws<PackageRejectedException>(() => ModelPackage.Verify(dir, _f.Trusted)).Reason);
    }

    [Fact]
    public void Roll_back_returns_to_the_previous_model()
    {
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var first = store.Install(_f.Build("v1.tar", 1));
        var second = store.Install(_f.Build("v2.tar", 2, version: "1.1.0"));
        Assert.Equal(second.Directory, store.Current!.Directory);
        Assert.Equal(first.Directory, store.RollBack()!.Directory);
        Assert.Equal(1, store.Current!.Manifest.Counter);
    }

    [Fact]
    public void Installs_keep_the_most_recent_versions_plus_current_and_previous()
    {
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted, keepVersions: 3);
        var installed = Enumerable.Range(1, 5).Select(c => store.Install(_f.Build($"v{c}.tar", c, version: $"1.{c}.0"))).ToList();
        Assert.Equal(installed.Skip(2).Select(i => i.Directory), store.Versions);
        Assert.All(installed.Skip(2), i => Assert.True(File.Exists(i.PathOf(PackageFileRoles.Head))));

        // Default (2): after a rollback the previous model is older than the two most recent, and is still kept.
        var small = new ModelStore(Path.Combine(_f.Root, "small"), _f.Trusted);
        var first = small.Install(_f.Build("s1.tar", 1));
        var second = small.Install(_f.Build("s2.tar", 2, version: "1.1.0"));
        Assert.Equal(first.Directory, small.RollBack()!.Directory);
        var third = small.Install(_f.Build("s3.tar", 3, version: "1.2.0"));
        Assert.Equal([first.Directory, second.Directory, third.Directory], small.Versions);
        var fourth = small.Install(_f.Build("s4.tar", 4, version: "1.3.0"));
        Assert.Equal([third.Directory, fourth.Directory], small.Versions);
        Assert.Equal(third.Directory, small.Previous!.Directory);

        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelStore(Path.Combine(_f.Root, "one"), _f.Trusted, keepVersions: 1));
    }

    [Fact]
    public void Revert_restores_the_previous_model_forgets_the_failed_one_and_leaves_nothing_after_a_first_install()
    {
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        var first = store.Install(_f.Build("v1.tar", 1));
        var failed = store.Install(_f.Build("v2.tar", 2, version: "1.1.0"));
        Assert.Equal(first.Directory, store.Revert()!.Directory);
        Assert.Equal(first.Directory, store.Current!.Directory);
        Assert.Null(store.Previous);
        Assert.Null(store.RollBack());
        Assert.False(Directory.Exists(failed.Directory));
        Assert.Equal(1, store.InstalledCounter);

        var fresh = new ModelStore(Path.Combine(_f.Root, "fresh"), _f.Trusted);
        var only = fresh.Install(_f.Build("only.tar", 1));
        Assert.Null(fresh.Revert());
        Assert.Null(fresh.Current);
        Assert.False(Directory.Exists(only.Directory));
        Assert.Empty(fresh.Versions);
    }

    private (ModelStore Store, InstalledModel Installed) StoreWithModel()
    {
        var store = new ModelStore(Path.Combine(_f.Root, "store"), _f.Trusted);
        return (store, store.Install(_f.Build("installed.tar", 1)));
    }

    /// <summary>Appends one hostile entry (header + data) before the end-of-archive marker of a good package.</summary>
    private static void WithExtraEntry(string good, string output, byte[] header, string data)
    {
        byte[] bytes = File.ReadAllBytes(good);
        var content = Encoding.ASCII.GetBytes(data);
        using var stream = File.Create(output);
        stream.Write(bytes, 0, bytes.Length - 1024);
        stream.Write(header);
        stream.Write(content);
        stream.Write(new byte[(512 - content.Length % 512) % 512]);
        stream.Write(new byte[1024]);
    }

    /// <summary>Every byte range of a package with the reason a flip inside it must produce.</summary>
    private static List<(long Start, long End, PackageRejection Reason)> Regions(byte[] bytes)
    {
        var regions = new List<(long, long, PackageRejection)>();
        long position = 0;
        using var stream = new MemoryStream(bytes);
        StrictTar.Read(stream, new PackageLimits(), (entry, data) =>
        {
            regions.Add((entry.DataOffset - 512, entry.DataOffset, PackageRejection.Malformed));
            if (entry.Name == ManifestFiles.Signature)
            {
                var sig = Encoding.UTF8.GetString(bytes, (int)entry.DataOffset, (int)entry.Size);
                var keyId = JsonDocument.Parse(sig).RootElement.GetProperty("keyId").GetString()!;
                int at = sig.IndexOf("\"" + keyId + "\"", StringComparison.Ordinal) + 1;
                regions.Add((entry.DataOffset, entry.DataOffset + at, PackageRejection.BadSignature));
                regions.Add((entry.DataOffset + at, entry.DataOffset + at + keyId.Length, PackageRejection.UntrustedKey));
                regions.Add((entry.DataOffset + at + keyId.Length, entry.DataOffset + entry.Size, PackageRejection.BadSignature));
            }
            else
            {
                regions.Add((entry.DataOffset, entry.DataOffset + entry.Size, entry.Name == ManifestFiles.Manifest ? PackageRejection.BadSignature : PackageRejection.HashMismatch));
            }
            long padEnd = entry.DataOffset + entry.Size + (512 - entry.Size % 512) % 512;
            if (padEnd > entry.DataOffset + entry.Size)
                regions.Add((entry.DataOffset + entry.Size, padEnd, PackageRejection.Malformed));
            position = padEnd;
        });
        regions.Add((position, bytes.Length, PackageRejection.Malformed));
        return regions;
    }
}
