using System.CommandLine;

namespace EdgeTL.Cloud;

/// <summary>The <c>edgetl-cloud</c> command line: one verb per cloud-side job.</summary>
internal static class CloudCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("EdgeTL cloud tools: pretrain backbones and measure transfer on the bundled data.");
        root.Subcommands.Add(PretrainCommand.Create());
        root.Subcommands.Add(TransferCommand.Create());
        return root;
    }
}
