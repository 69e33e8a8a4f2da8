/// The dashboard's one style sheet, inline (the CSP allows `'unsafe-inline'` styles and no
/// style from elsewhere). System fonts, one accent, red only where something needs an admin.
enum Stylesheet {
    static let css: HTML = """

    :root { --fg: #1d2330; --muted: #5d6675; --line: #dfe3ea; --bg: #f5f7fa; --card: #fff;
      --accent: #2f6fdb; --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --bad-bg: #fdecec; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
      color: var(--fg); background: var(--bg); }
    header { display: flex; align-items: center; justify-content: space-between; gap: 1rem;
      padding: .6rem 1.5rem; background: #1d2330; color: #fff; }
    .brand { font-weight: 600; font-size: 1.05rem; letter-spacing: .02em; }
    .account { display: flex; align-items: center; gap: .75rem; }
    .account form { margin: 0; }
    button { font: inherit; padding: .3rem .8rem; border-radius: 4px; border: 1px solid var(--line);
      background: #fff; color: var(--fg); cursor: pointer; }
    button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
    main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
    nav.summary { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0 1rem; }
    nav.summary a { padding: .35rem .75rem; border-radius: 999px; background: var(--card);
      border: 1px solid var(--line); color: var(--fg); text-decoration: none; }
    nav.summary a.alert { border-color: var(--bad); color: var(--bad); }
    section { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
      padding: .75rem 1rem 1rem; margin-bottom: 1rem; }
    h2 { font-size: 1.05rem; margin: 0 0 .6rem; }
    h2 .note { font-weight: normal; color: var(--muted); font-size: .9rem; margin-left: .5rem; }
    h3 { font-size: .95rem; margin: 0 0 .3rem; }
    table { width: 100%; border-collapse: collapse; }
    th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { color: var(--muted); font-weight: 600; font-size: .85rem; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    .muted, .empty { color: var(--muted); }
    .empty { margin: .25rem 0; }
    .badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
    .health-ok { background: #e3f4ea; color: var(--ok); }
    .health-warning { background: #fdf3e1; color: var(--warn); }
    .health-unreachable, .health-revoked { background: var(--bad-bg); color: var(--bad); }
    ul.problems { margin: .25rem 0 0; padding-left: 1.1rem; color: var(--muted); font-size: .85rem; }
    .tag { display: inline-block; padding: 0 .4rem; margin: 0 .2rem .1rem 0; border-radius: 3px;
      background: var(--bg); border: 1px solid var(--line); font-size: .8rem; }
    tr.overdue td { background: var(--bad-bg); color: var(--bad); }
    tr.overdue td.status { font-weight: 600; }
    td.drill-failed { color: var(--bad); }
    td.drill-failed .badge { background: var(--bad-bg); color: var(--bad); }
    td.error { color: var(--bad); white-space: pre-wrap; word-break: break-word; max-width: 32rem; }
    .stores { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1rem; }
    .store { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .75rem; }
    .store dl { display: grid; grid-template-columns: auto 1fr; gap: .1rem .75rem; margin: .25rem 0 .5rem; }
    .store dt { color: var(--muted); }
    .store dd { margin: 0; font-variant-numeric: tabular-nums; }
    svg.chart { width: 100%; height: auto; display: block; }
    svg.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
    svg.chart .grid { stroke: var(--line); stroke-width: 1; }
    svg.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; }
    svg.chart .dot { fill: var(--accent); }
    svg.chart .bar { fill: var(--accent); }
    svg.chart .bar.failed { fill: var(--bad); }
    svg.chart .failed-mark { fill: var(--bad); }
    .legend { color: var(--muted); font-size: .85rem; margin-top: .25rem; }
    .legend .swatch { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; margin: 0 .25rem 0 .75rem; vertical-align: -1px; }
    .login { max-width: 360px; margin: 12vh auto; background: var(--card); border: 1px solid var(--line);
      border-radius: 8px; padding: 1.5rem; }
    .login h1 { font-size: 1.2rem; margin: 0 0 1rem; }
    .login label { display: block; font-weight: 600; margin-bottom: .3rem; }
    .login input { width: 100%; font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 4px; margin-bottom: 1rem; }
    .login .error { background: var(--bad-bg); color: var(--bad); border-radius: 4px; padding: .5rem .7rem; margin-bottom: 1rem; }

    """
}
