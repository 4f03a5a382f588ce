using System.Diagnostics.Metrics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Auth;
using MlPlatform.Gateway.Errors;
using MlPlatform.Gateway.Forwarding;
using MlPlatform.Gateway.Limits;

namespace MlPlatform.UnitTests.Gateway;

/// <summary>
/// What <see cref="ForwardOutcomeMiddleware"/> does with the body of a refused request: read and dropped (so an HTTP/1.1 client reads its
/// answer), within the key's <see cref="ClientErrorOptions.MaxDrainedBytes"/> per window for client errors; past it, left unread, the
/// answer sent with <c>Connection: close</c> and the connection aborted after it.
/// </summary>
public sealed class RefusedBodyDrainTests : IDisposable
{
    private const int BodyBytes = 100;
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task AKeysRefusedBodiesAreDrainedUntilTheNextWouldPassItsBoundThenLeftUnreadWithConnectionClose()
    {
        var middleware = Middleware(maxDrained: 150, refuseWith: StatusCodes.Status413PayloadTooLarge, out var undrained);

        var first = Request(GatewayRoles.Reader);
        await middleware.InvokeAsync(first.Context);
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, first.Context.Response.StatusCode);
        Assert.Equal(BodyBytes, first.Body.Position);
        Assert.False(first.Context.Response.Headers.ContainsKey("Connection"));
        Assert.False(first.Lifetime.Aborted);

        var second = Request(GatewayRoles.Reader);
        await middleware.InvokeAsync(second.Context);
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, second.Context.Response.StatusCode);
        Assert.Equal(0, second.Body.Position);
        Assert.Equal("close", second.Context.Response.Headers.Connection.ToString());
        Assert.True(second.Lifetime.Aborted);
        // The answer itself is whole: the V2 error naming the limit.
        Assert.Contains("exceeds", System.Text.Encoding.UTF8.GetString(second.Answer.ToArray()), StringComparison.Ordinal);
        Assert.Equal(1, undrained());
    }

    [Theory]
    [InlineData(GatewayRoles.Admin, StatusCodes.Status413PayloadTooLarge)]
    [InlineData(GatewayRoles.Reader, StatusCodes.Status503ServiceUnavailable)]
    public async Task AdminsAndServerErrorsAreAlwaysDrained(string role, int status)
    {
        var middleware = Middleware(maxDrained: 0, refuseWith: status, out var undrained);

        var request = Request(role);
        await middleware.InvokeAsync(request.Context);

        Assert.Equal(BodyBytes, request.Body.Position);
        Assert.False(request.Lifetime.Aborted);
        Assert.Equal(0, undrained());
    }

    [Fact]
    public async Task WithTheBudgetOffEveryRefusedBodyIsDrained()
    {
        var middleware = Middleware(maxDrained: 0, refuseWith: StatusCodes.Status413PayloadTooLarge, out _, enabled: false);

        var request = Request(GatewayRoles.Reader);
        await middleware.InvokeAsync(request.Context);

        Assert.Equal(BodyBytes, request.Body.Position);
        Assert.False(request.Lifetime.Aborted);
    }

    private ForwardOutcomeMiddleware Middleware(long maxDrained, int refuseWith, out Func<long> undrained, bool enabled = true)
    {
        var options = Options.Create(new ClientErrorOptions { Enabled = enabled, MaxDrainedBytes = maxDrained });
        var meters = _services.GetRequiredService<IMeterFactory>();
        long count = 0;
        var listener = _listener;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "mlplatform.gateway.client_error_undrained_bodies" && instrument.Meter.Scope == meters)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref count, value));
        listener.Start();
        undrained = () => Interlocked.Read(ref count);
        return new ForwardOutcomeMiddleware(
            context => ForwardFailures.Refuse(context, new GatewayAnswer(refuseWith, "Refused", "The request body exceeds this route's limit.")),
            Options.Create(new EarlyAnswerOptions()), options, new ClientErrorBudget(options, TimeProvider.System), new ClientErrorMetrics(meters),
            NullLogger<ForwardOutcomeMiddleware>.Instance);
    }

    private static (DefaultHttpContext Context, MemoryStream Body, MemoryStream Answer, Lifetime Lifetime) Request(string role)
    {
        var body = new MemoryStream(new byte[BodyBytes]);
        var answer = new MemoryStream();
        var lifetime = new Lifetime();
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);
        context.Request.Protocol = "HTTP/1.1";
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/v2/models/m/infer";
        context.Request.ContentLength = BodyBytes;
        context.Request.Body = body;
        context.Response.Body = answer;
        context.User = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "key-1"), new Claim(ClaimTypes.Role, role)], "test"));
        return (context, body, answer, lifetime);
    }

    private sealed class Lifetime : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get; set; }

        public bool Aborted { get; private set; }

        public void Abort() => Aborted = true;
    }
}
