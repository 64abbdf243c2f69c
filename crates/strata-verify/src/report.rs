//! Per-node bound reports: IBP for every node, CROWN for the nodes that feed a ReLU and the
//! output, alpha-CROWN for the output (when the graph lowers to layers), as a text table and
//! a self-contained HTML page comparing the widths.

use crate::dense::{bound_domains, BoundOptions, Domain};
use crate::{Bounds, Crown, LayeredNet, Region, VerifyError};
use strata_ir::{Graph, ParamStore};

/// The bounds of one node by each method (those that apply).
#[derive(Clone, Debug)]
pub struct NodeReport {
    /// `%id name` as the IR prints it.
    pub node: String,
    pub op: &'static str,
    pub ibp: Bounds,
    pub crown: Option<Bounds>,
    pub alpha_crown: Option<Bounds>,
}

fn mean_width(b: &Bounds) -> f64 {
    let n = b.lower.len().max(1) as f64;
    (b.lower.iter().zip(&b.upper))
        .map(|(l, u)| u - l)
        .sum::<f64>()
        / n
}

/// Bounds of every float node over `region`. `alpha_steps` gradient steps for the output's
/// alpha-CROWN bounds (skipped when the graph does not lower to layers).
pub fn bounds_report(
    graph: &Graph,
    params: &ParamStore,
    region: &Region,
    alpha_steps: usize,
) -> Result<Vec<NodeReport>, VerifyError> {
    let crown = Crown::new(graph, params, region)?;
    let out = *graph
        .outputs
        .first()
        .ok_or_else(|| VerifyError::Mismatch("the graph has no output".into()))?;
    let alpha = match LayeredNet::lower(graph, params) {
        Ok(net) => {
            let n = net.n_outputs();
            let mut spec = vec![0.0; 2 * n * n];
            for j in 0..n {
                spec[j * n + j] = 1.0;
                spec[(n + j) * n + j] = -1.0;
            }
            let mut doms = vec![Domain::new(region.lower.clone(), region.upper.clone())];
            let opts = BoundOptions {
                steps: alpha_steps,
                learning_rate: 0.1,
                warm_start: false,
                intersect_ibp: true,
            };
            let low = bound_domains(&net, &mut doms, &spec, 2 * n, opts)
                .remove(0)
                .lower;
            Some(Bounds {
                shape: graph.nodes[out].shape.dims().to_vec(),
                lower: low[..n].to_vec(),
                upper: low[n..].iter().map(|v| -v).collect(),
            })
        }
        Err(_) => None,
    };
    let mut rows = Vec::new();
    for node in &graph.nodes {
        let Some(ibp) = crown.ibp_bounds(node.id) else {
            continue;
        };
        let crown_b = if node.id == out {
            Some(crown.bounds(out)?)
        } else {
            crown.pre_activation_bounds(node.id)
        };
        rows.push(NodeReport {
            node: node.node_ref().to_string(),
            op: node.op.tag(),
            ibp,
            crown: crown_b,
            alpha_crown: if node.id == out { alpha.clone() } else { None },
        });
    }
    Ok(rows)
}

/// One line per node: elements, and per method the smallest lower bound, the largest upper
/// bound and the mean width.
pub fn report_table(rows: &[NodeReport]) -> String {
    let mut text = String::from("node\top\tnumel\tmethod\tmin_lower\tmax_upper\tmean_width\n");
    for r in rows {
        let methods = [
            ("ibp", Some(&r.ibp)),
            ("crown", r.crown.as_ref()),
            ("alpha_crown", r.alpha_crown.as_ref()),
        ];
        for (name, b) in methods {
            if let Some(b) = b {
                let lo = b.lower.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = b.upper.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                text.push_str(&format!(
                    "{}\t{}\t{}\t{name}\t{lo:.6e}\t{hi:.6e}\t{:.6e}\n",
                    r.node,
                    r.op,
                    r.ibp.lower.len(),
                    mean_width(b)
                ));
            }
        }
    }
    text
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A self-contained HTML page: per node, bars of the mean bound width by method (log scale
/// relative to IBP), and the numbers.
pub fn report_html(rows: &[NodeReport], title: &str) -> String {
    let mut body = String::new();
    for r in rows {
        let ibp = mean_width(&r.ibp);
        let mut bars = String::new();
        let methods = [
            ("IBP", Some(&r.ibp), "#999"),
            ("CROWN", r.crown.as_ref(), "#36c"),
            ("alpha-CROWN", r.alpha_crown.as_ref(), "#c63"),
        ];
        for (name, b, colour) in methods {
            if let Some(b) = b {
                let w = mean_width(b);
                let frac = if ibp > 0.0 {
                    (w / ibp).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                bars.push_str(&format!(
                    "<div class=\"bar\"><span class=\"m\">{name}</span><span style=\"display:inline-block;width:{:.1}px;background:{colour}\">&nbsp;</span> {w:.4e}</div>",
                    (400.0 * frac).max(1.0)
                ));
            }
        }
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{bars}</td></tr>\n",
            escape(&r.node),
            r.op,
            r.ibp.lower.len()
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title><style>body{{font-family:sans-serif}}td{{padding:2px 8px;border-bottom:1px solid #ddd;vertical-align:top}}.m{{display:inline-block;width:90px}}</style></head><body>\n<h1>{t}</h1><p>Mean bound width per node; bars are relative to IBP (full width = IBP).</p>\n<table><tr><th>node</th><th>op</th><th>elements</th><th>mean width</th></tr>\n{body}</table></body></html>\n",
        t = escape(title)
    )
}
