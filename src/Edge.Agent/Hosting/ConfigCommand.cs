using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// <c>config</c>: every configuration key with the value <c>run</c> would use, its default and
/// the source it comes from; then the keys that bind to nothing (warnings) and the values that
/// are bad (rc 2, in <c>run</c>'s format).
/// </summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "The extra JSON configuration file 'run --config' would read.", HelpName = "FILE" };
        var command = new Command("config", "Print every setting (section Agent) with the value 'run' would use, its default and its source (appsettings.json, " + AgentHost.SystemConfigFile + ", --config FILE, EDGETL_Agent__<Key>); warn of unknown keys; rc 2 for bad values. Keys: docs/configuration.md.") { config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            IConfigurationRoot root;
            try
            {
                root = AgentConfiguration.Load(parse.GetValue(config));
            }
            catch (Exception e) when (AgentCli.UnreadableFile(e) is { } problem)
            {
                return await AgentCli.SettingsError(error, [problem]).ConfigureAwait(false);
            }
            var section = root.GetSection(AgentConfiguration.Section);
            var options = new AgentOptions();
            var unreadable = AgentConfiguration.Bind(section, options);
            var rows = AgentConfiguration.Keys().Select(key =>
            {
                string value = unreadable.Count > 0 && root[key.Path] is { } raw && unreadable.Any(p => p.StartsWith(key.Path + " ", StringComparison.Ordinal))
                    ? $"'{raw}' (unreadable)"
                    : SettingKey.Format(key.ValueIn(options));
                string source = AgentConfiguration.SourceOf(root, key.Path);
                if (key.IsSecret && key.ValueIn(options) is not null)
                    value = "***";
                return (key.Path, Value: value, Default: SettingKey.Format(key.Default), Source: source);
            }).ToList();
            int keyWidth = rows.Max(r => r.Path.Length), valueWidth = Math.Max(5, rows.Max(r => r.Value.Length)), defaultWidth = Math.Max(7, rows.Max(r => r.Default.Length));
            await output.WriteLineAsync($"{"KEY".PadRight(keyWidth)}  {"VALUE".PadRight(valueWidth)}  {"DEFAULT".PadRight(defaultWidth)}  SOURCE").ConfigureAwait(false);
            foreach (var (path, value, defaultValue, source) in rows)
                await output.WriteLineAsync($"{path.PadRight(keyWidth)}  {value.PadRight(valueWidth)}  {defaultValue.PadRight(defaultWidth)}  {source}").ConfigureAwait(false);
            foreach (var warning in AgentConfiguration.UnknownKeys(section))
                await error.WriteLineAsync("warning: " + warning).ConfigureAwait(false);
            var problems = unreadable.Concat(options.Problems()).ToList();
            return problems.Count > 0 ? await AgentCli.SettingsError(error, problems).ConfigureAwait(false) : 0;
        });
        return command;
    }
}
