using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace EdgeTL.Demo;

/// <summary><c>edgetl-demo</c>: the whole loop on this machine, live, with an embedded broker (see <see cref="DemoRunner"/>).</summary>
internal static class DemoCommand
{
    public static RootCommand Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for the PNGs, the package cache and the demo agent's data.", DefaultValueFactory = _ => "./out" };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
        var command = new RootCommand("EdgeTL demo: pretrain (or reuse), package, sign, deploy over MQTT, cold-start on new classes, fine-tune, inject a domain shift and watch the agent adapt.")
        {
            output, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var options = new DemoOptions { OutputDirectory = parse.GetValue(output)! };
                bool interactive = !parse.GetValue(json) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
                DemoSummary summary;
                if (interactive)
                {
                    // Live: a spinner with the current step above the lines already done (Spectre.Console).
                    summary = await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync("starting", async context =>
                        await new DemoRunner(options, new StatusWriter(context)).RunAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                }
                else
                {
                    // Redirected (CI, journald): Spectre would print nothing for a live display, so plain lines.
                    summary = await new DemoRunner(options, parse.GetValue(json) ? TextWriter.Null : Console.Out).RunAsync(cancellationToken).ConfigureAwait(false);
                }
                if (parse.GetValue(json))
                    Console.WriteLine(JsonSerializer.Serialize(summary, DemoJson.Default.DemoSummary));
                else if (interactive)
                    AnsiConsole.Write(SummaryTable(summary));
                else
                    Print(summary);
                return 0;
            }
            catch (OperationCanceledException)
            {
                return 130;
            }
            catch (Exception e) when (e is Agent.AgentException or TimeoutException or Trainer.EdgeTrainerException or Runtime.EdgeRuntimeException)
            {
                await Console.Error.WriteLineAsync($"error: the demo stopped: {e.Message}").ConfigureAwait(false);
                return 4;
            }
        });
        return command;
    }

    private static Table SummaryTable(DemoSummary s)
    {
        var table = new Table().Title("Summary: device figures as the agent published them over MQTT").AddColumn("").AddColumn(new TableColumn("").RightAligned());
        foreach (var (name, value) in Rows(s))
            table.AddRow(Markup.Escape(name), Markup.Escape(value));
        return table;
    }

    private static void Print(DemoSummary s)
    {
        var rows = Rows(s);
        int width = rows.Max(r => r.Item1.Length);
        Console.WriteLine();
        Console.WriteLine("Summary (device figures as the agent published them over MQTT; the first row is the cloud's pretraining)");
        foreach (var (name, value) in rows)
            Console.WriteLine($"  {name.PadRight(width)}  {value}");
    }

    private static (string, string)[] Rows(DemoSummary s)
    {
        string P(double v) => v.ToString("P1", CultureInfo.InvariantCulture);
        return new (string, string)[]
        {
            ("cloud: pretrained source accuracy (classes 0–4)", P(s.PretrainSourceAccuracy)),
            ($"time from deployment to first model ({s.ColdStartShots} shots/class)", $"{s.SecondsToFirstModel:F1} s"),
            ("new classes 5–9, after cold start", P(s.ColdStartAccuracy)),
            ("new classes 5–9, after head-only fine-tune", P(s.FinetunedAccuracy)),
            ($"new classes 5–9, after progressive fine-tune ({s.ProgressiveOutcome})", P(s.ProgressiveAccuracy)),
            ("shifted images, before adaptation", P(s.ShiftedAccuracyBefore)),
            ("shift localized", s.ShiftLocalization),
            ($"shifted images, after label-free adaptation ({s.LabelFreeMethod}, {s.AdaptationOutcome})", P(s.ShiftedAccuracyAfter)),
            ($"shifted images, after surgical fine-tune ({s.SurgicalOutcome})", P(s.SurgicalShiftedAccuracy)),
            ("clean images of classes 5–9, after surgical fine-tune", P(s.SurgicalCleanAccuracy)),
            ("from the drift event to a promoted model", s.SecondsFromDriftToPromotion is { } d ? $"{d:F1} s" : "none promoted"),
            ($"transfer gain ({s.TransferGainKind})", s.TransferGain.ToString("+0.000;-0.000", CultureInfo.InvariantCulture)),
            ("MMD² source–target, before → after", $"{s.Mmd2Before:F3} → {s.Mmd2After:F3}"),
            ("drift test p-value", s.DriftPValue.ToString("F3", CultureInfo.InvariantCulture)),
            ("demo wall time", $"{s.TotalSeconds:F0} s"),
        };
    }

    /// <summary>Prints each demo line above the spinner and shows it as the current status.</summary>
    private sealed class StatusWriter(StatusContext context) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            string line = value ?? "";
            AnsiConsole.MarkupLine(line.StartsWith(' ') ? $"[grey]{Markup.Escape(line)}[/]" : $"[bold]{Markup.Escape(line)}[/]");
            context.Status(Markup.Escape(line.Trim()));
        }
    }
}
