using System.Text.Json;

namespace MlPlatform.IntegrationTests.Dashboard;

/// <summary>The registry resource's dashboard commands, executed the way the dashboard does (<c>ResourceCommands</c>).</summary>
[Collection(PlatformCollection.Name)]
public sealed class DashboardCommandsTests(PlatformFixture platform)
{
    [Fact]
    public async Task RegisterDemoModelThenRollBackProductionFromTheDashboard()
    {
        var name = RegistryTestSupport.UniqueName("dash");
        using var client = platform.CreateGatewayClient();

        for (var expected = 1; expected <= 2; expected++)
        {
            var registered = await ExecuteAsync("register-demo-model", ("model", name));
            Assert.True(registered.Success, registered.Message);
            Assert.Equal($"{name}: registered version {expected} from models/iris.onnx; production → version {expected}", registered.Message);
        }

        var rolledBack = await ExecuteAsync("roll-back-production", ("model", name), ("reason", "v2 looks wrong"));
        Assert.True(rolledBack.Success, rolledBack.Message);
        Assert.Equal($"{name}: production → version 1", rolledBack.Message);

        // The change is the registry's own, recorded as coming from the dashboard.
        using var history = await client.GetAsync($"/v1/models/{name}/aliases/production/history").WaitAsync(PlatformFixture.RequestTimeout);
        using var changes = JsonDocument.Parse(await history.Content.ReadAsStringAsync());
        var last = changes.RootElement.EnumerateArray().Last();
        Assert.Equal("rollback", last.GetProperty("kind").GetString());
        Assert.Equal("aspire-dashboard", last.GetProperty("actor").GetString());
        Assert.Equal("v2 looks wrong", last.GetProperty("reason").GetString());

        // Nothing older to go back to: the registry's reason is the command's error.
        var refused = await ExecuteAsync("roll-back-production", ("model", name), ("reason", "again"));
        Assert.False(refused.Success);
        Assert.StartsWith("409: ", refused.Message);
    }

    private async Task<ExecuteCommandResult> ExecuteAsync(string command, params (string Name, string Value)[] arguments)
    {
        var inputs = new InteractionInputCollection(
            arguments.Select(a => new InteractionInput { Name = a.Name, InputType = InputType.Text, Value = a.Value }).ToList());
        return await platform.App.ResourceCommands.ExecuteCommandAsync("modelregistry", command, inputs).WaitAsync(PlatformFixture.RequestTimeout);
    }
}
