//! Runs one VNN-COMP instance: `cargo run --release -p strata-verify --example vnn_instance -- net.onnx prop.vnnlib`.
//! Prints the verdict, the seconds, and the CROWN vs IBP output bounds on the first box.

use std::time::{Duration, Instant};
use strata_io::onnx::{import_model, read_onnx, ImportOptions};
use strata_verify::dense::{bound_domains, BoundOptions, Domain};
use strata_verify::{read_property, verify, Crown, LayeredNet, Region, Verdict, VerifyOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: vnn_instance NET.onnx PROP.vnnlib [timeout_s]");
        std::process::exit(2);
    }
    let timeout = args.get(3).and_then(|t| t.parse().ok()).unwrap_or(116.0);
    let start = Instant::now();
    let result = (|| -> Result<(Verdict, String), String> {
        let model = read_onnx(&args[1]).map_err(|e| e.to_string())?;
        let im =
            import_model(&model, &args[1], &ImportOptions::default()).map_err(|e| e.to_string())?;
        let prop = read_property(&args[2]).map_err(|e| e.to_string())?;
        let case = &prop.cases[0];
        let mut region = Region::new(case.input.lower.clone(), case.input.upper.clone());
        if std::env::var_os("STRATA_F32_BOX").is_some() {
            // Compare with tools that hold the box in float32 (nearest): not sound, for comparison only.
            let f = |v: &Vec<f64>| v.iter().map(|&x| f64::from(x as f32)).collect();
            region = Region::new(f(&region.lower), f(&region.upper));
        }
        let crown = Crown::new(&im.graph, &im.params, &region).map_err(|e| e.to_string())?;
        let out = im.graph.outputs[0];
        let cb = crown.bounds(out).map_err(|e| e.to_string())?;
        let ib = crown.ibp_bounds(out).ok_or("no IBP bounds")?;
        let mut info = format!(
            "IBP {:?} {:?}\nCROWN {:?} {:?}",
            ib.lower, ib.upper, cb.lower, cb.upper
        );
        if let Ok(net) = LayeredNet::lower(&im.graph, &im.params) {
            let n = net.n_outputs();
            let mut spec = vec![0.0; 2 * n * n];
            for j in 0..n {
                spec[j * n + j] = 1.0;
                spec[(n + j) * n + j] = -1.0;
            }
            let mut doms = vec![Domain::new(region.lower.clone(), region.upper.clone())];
            for steps in [0, 20] {
                let opts = BoundOptions {
                    steps,
                    learning_rate: 0.1,
                    warm_start: true,
                    intersect_ibp: true,
                };
                let b = bound_domains(&net, &mut doms, &spec, 2 * n, opts);
                let lo = &b[0].lower;
                let up: Vec<f64> = lo[n..].iter().map(|v| -v).collect();
                info += &format!("\ndense alpha steps {steps}: {:?} {:?}", &lo[..n], up);
            }
        }
        let opts = VerifyOptions {
            timeout: Duration::from_secs_f64(timeout),
            ..Default::default()
        };
        let v = verify(&im.graph, &im.params, &prop, &opts).map_err(|e| e.to_string())?;
        Ok((v, info))
    })();
    match result {
        Ok((v, info)) => {
            println!("{info}");
            let word = match &v {
                Verdict::Unsat => "unsat".to_string(),
                Verdict::Sat(c) => format!("sat {:?} -> {:?}", c.input, c.output),
                Verdict::Unknown(why) => format!("unknown ({why})"),
            };
            println!("{word}\t{:.3}s", start.elapsed().as_secs_f64());
        }
        Err(e) => {
            println!("error: {e}");
            std::process::exit(1);
        }
    }
}
