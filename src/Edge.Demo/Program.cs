using EdgeTL.Demo;

var parse = DemoCommand.Create().Parse(args);
int rc = await parse.InvokeAsync().ConfigureAwait(false);
return parse.Errors.Count > 0 ? 2 : rc;
