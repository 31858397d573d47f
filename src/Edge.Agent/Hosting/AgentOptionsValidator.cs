using Microsoft.Extensions.Options;

namespace EdgeTL.Agent.Hosting;

/// <summary>Validates <see cref="AgentOptions"/> at start: every problem is named, and the service does not start.</summary>
public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
