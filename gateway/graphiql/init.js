// GraphiQL on this gateway: queries and mutations over HTTP POST /graphql, subscriptions over
// graphql-ws on the same path. A token typed in the Headers tab ({"Authorization": "Bearer …"} or
// {"jwt": "…"}) is sent with HTTP requests and, as connectionParams, on the WebSocket — the gateway
// reads either — so `myNotifications` works too. One WebSocket per distinct set of headers.
(function () {
  'use strict';
  var url = location.origin + '/graphql';
  var wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
  var fetchers = new Map();

  function fetcherFor(headers) {
    var key = JSON.stringify(headers || {});
    var fetcher = fetchers.get(key);
    if (!fetcher) {
      var wsClient = graphqlWs.createClient({ url: wsUrl, connectionParams: headers || {}, lazy: true, retryAttempts: 3 });
      fetcher = GraphiQL.createFetcher({ url: url, wsClient: wsClient });
      fetchers.set(key, fetcher);
    }
    return fetcher;
  }

  var defaultQuery = [
    '# Dream and Study: the federated graph (users + courses) through the gateway.',
    '# Log in with the Headers tab: {"Authorization": "Bearer <jwt>"} (login returns a jwt).',
    '',
    'query Catalogue {',
    '  categories',
    '  courses(first: 10) {',
    '    id',
    '    name',
    '    category',
    '    price',
    '    owner { username }',
    '  }',
    '}',
    '',
    '# subscription Created { courseCreated { id name owner { username } } }',
    '',
  ].join('\n');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: function (params, opts) {
        return fetcherFor(opts && opts.headers)(params, opts);
      },
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    }),
  );
})();
