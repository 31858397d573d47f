# Sourced by the bench scripts that drive `edgetl-cloud` (from the repository root): builds the CLI once,
# restores ML.NET's ImageNet ResNet-18 when its files are missing, and defines `cli` and `$models`.
models=${EDGETL_DNN_IMAGE_MODELS:-${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels}
dotnet build src/Cloud.Pretrain -c Release -v q -nologo
[ -f "$models/ResNet18Onnx/ResNet18.onnx" ] || dotnet restore tests/Edge.Trainer.Tests -v q >/dev/null
cli() { dotnet src/Cloud.Pretrain/bin/Release/net10.0/edgetl-cloud.dll "$@"; }
