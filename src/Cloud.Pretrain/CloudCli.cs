using System.CommandLine;

namespace EdgeTL.Cloud;

/// <summary>The <c>edgetl-cloud</c> command line: one verb per cloud-side job.</summary>
internal static class CloudCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("EdgeTL cloud tools: pretrain backbones, measure transfer, and move weights between PyTorch, ONNX and EdgeTL.");
        root.Subcommands.Add(PretrainCommand.Create());
        root.Subcommands.Add(TransferCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(ExportOnnxCommand.Create());
        return root;
    }
}
