using System.CommandLine;
using Spectre.Console;

namespace EdgeTL.Cloud;

/// <summary>
/// Where a verb writes: the invocation's output writer, with Spectre.Console status and progress
/// only when that writer is the real console on a terminal. Redirected output (CI, journald,
/// tests) gets plain progress lines instead, because Spectre prints nothing there
/// (PLATFORM-NOTES, "Console"). Machine output (<c>--json</c>) gets no progress at all.
/// </summary>
internal sealed class CliConsole(ParseResult parse, bool json)
{
    /// <summary>The invocation's standard output.</summary>
    public TextWriter Out { get; } = parse.InvocationConfiguration.Output;

    /// <summary>True when Spectre's live widgets can draw.</summary>
    public bool Interactive => !json && ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Writes a human line (nothing in <c>--json</c> mode).</summary>
    public void Line(string text)
    {
        if (!json)
            Out.WriteLine(text);
    }

    /// <summary>Runs <paramref name="work"/> under a spinner (terminal) or with plain status lines (redirected).</summary>
    public T Status<T>(string title, Func<Action<string>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Interactive)
        {
            Line(title + "…");
            return work(Line);
        }
        return AnsiConsole.Status().Start(title, ctx => work(message => ctx.Status(Markup.Escape(message))));
    }

    /// <summary>
    /// Runs <paramref name="work"/>, which reports (steps done, line): on a terminal, a Spectre progress bar of
    /// <paramref name="total"/> steps with each line printed above it; redirected, the plain lines only.
    /// </summary>
    public T Progress<T>(string title, int total, Func<Action<int, string>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Interactive)
            return work((_, line) => Line(line));
        return AnsiConsole.Progress().AutoClear(false).Start(ctx =>
        {
            var task = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
            return work((done, line) =>
            {
                AnsiConsole.WriteLine(line);
                task.Value = done;
            });
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar of <paramref name="total"/> steps (terminal) or plain
    /// lines (redirected); <paramref name="work"/> reports (done, message).
    /// </summary>
    public async Task<T> ProgressAsync<T>(string title, int total, Func<Action<int, string>, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Interactive)
        {
            Line(title + "…");
            return await work((done, message) => Line($"  [{done}/{total}] {message}")).ConfigureAwait(false);
        }
        return await AnsiConsole.Progress().AutoClear(false).StartAsync(async ctx =>
        {
            var task = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
            return await work((done, message) =>
            {
                task.Value = done;
                task.Description = Markup.Escape($"{title}: {message}");
            }).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }
}
