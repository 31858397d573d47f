using System.CommandLine;

namespace EdgeTL.Cloud;

/// <summary>The <c>edgetl-cloud</c> command line: one verb per cloud-side job.</summary>
internal static class CloudCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("EdgeTL cloud tools: pretrain backbones, measure transfer, move weights between PyTorch, ONNX and EdgeTL, package and sign models, and deploy them to device groups over MQTT.");
        root.Subcommands.Add(PretrainCommand.Create());
        root.Subcommands.Add(TransferCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(ExportOnnxCommand.Create());
        root.Subcommands.Add(MetaPretrainCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(PackageCommand.Create());
        root.Subcommands.Add(SignCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(PublishCommand.Create());
        root.Subcommands.Add(FleetCommand.Create());
        return root;
    }
}
