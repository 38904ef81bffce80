//! One million consumptions priced as a billing run does: family by family and month by month,
//! each consumption priced with its child's situation, then the family's aids folded over the
//! month. Rule set: the example city (QF brackets and sibling reductions at the cantine, an
//! effort rate per half-hour with floor, ceiling and overtime in the evening, the CNAF PSU at
//! the crèche, a CCAS aid and an employer aid).
//!
//! Run: `cargo bench --bench pricing -- --warm-up-time 1 --measurement-time 5`

use std::collections::BTreeSet;
use std::hint::black_box;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use marelle::domain::money::Cents;
use marelle::domain::pricing::{
    Aid, AidUsage, AttendanceState, Bareme, CityPricing, Consumption, FamilySituation,
    PricingContext, Residence, apply_aids, price,
};

const CONSUMPTIONS: usize = 1_000_000;

const CITY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/examples/ville-exemple.toml"
));

/// One family's consumptions of one month, as the billing run sees them.
struct FamilyMonth {
    /// Situation of each child on the month's days (index = position in `consumptions`' child).
    situations: Vec<FamilySituation>,
    consumptions: Vec<(usize, Consumption)>,
    aids: Vec<Aid>,
}

/// Deterministic pseudo-random numbers (xorshift), so every run prices the same data.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn clock(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).expect("valid time")
}

fn school_days(month: NaiveDate) -> Vec<NaiveDate> {
    month
        .iter_days()
        .take_while(|day| day.month() == month.month())
        .filter(|day| !matches!(day.weekday(), Weekday::Wed | Weekday::Sat | Weekday::Sun))
        .collect()
}

fn situation(dice: &mut Dice, children: u8, rank: u8, creche: bool) -> FamilySituation {
    let residence = match dice.below(10) {
        0 => Residence::OutsideCity,
        1 => Residence::OutsideIntercommunality,
        _ => Residence::City,
    };
    let mut options = BTreeSet::new();
    if dice.chance(3) {
        options.insert("ulis".to_owned());
        options.insert("schooled_in_city".to_owned());
    }
    FamilySituation {
        family_quotient: Some(Cents(20_000 + dice.below(180_000) as i64)),
        monthly_resources: Some(Cents(80_000 + dice.below(1_000_000) as i64)),
        dependent_children: children,
        aeeh_children: u8::from(creche && dice.chance(2)),
        residence,
        options,
        sibling_rank: rank,
    }
}

fn consumption(
    child_id: i64,
    activity: &str,
    unit: &str,
    date: NaiveDate,
    tariff: &str,
) -> Consumption {
    Consumption {
        child_id,
        activity: activity.to_owned(),
        unit: unit.to_owned(),
        date,
        arrival: None,
        departure: None,
        closing_time: None,
        state: AttendanceState::Present,
        billable: true,
        tariff: Some(tariff.to_owned()),
    }
}

/// Cantine four days a week, evenings two to four days a week (some picked up late), crèche
/// every day for the youngest of some families; a few absences and unbooked presences.
fn generate(city: &CityPricing) -> Vec<FamilyMonth> {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let months: Vec<NaiveDate> = [
        (2025, 9),
        (2025, 10),
        (2025, 11),
        (2025, 12),
        (2026, 1),
        (2026, 2),
    ]
    .iter()
    .map(|&(y, m)| NaiveDate::from_ymd_opt(y, m, 1).expect("valid month"))
    .collect();
    let mut total = 0;
    let mut family_months = Vec::new();
    let mut family_id = 0i64;
    while total < CONSUMPTIONS {
        family_id += 1;
        let children = 1 + dice.below(3) as u8;
        let has_creche = dice.chance(15);
        let situations: Vec<FamilySituation> = (0..children)
            .map(|rank| situation(&mut dice, children, rank + 1, has_creche))
            .collect();
        let aids: Vec<Aid> = city
            .aids
            .iter()
            .filter(|aid| {
                (&*aid.id == "ccas-cantine" && dice.chance(30))
                    || (&*aid.id == "employeur-creche" && has_creche)
            })
            .cloned()
            .collect();
        let tariffs: Vec<String> = situations
            .iter()
            .map(|s| {
                marelle::domain::pricing::assign_tariff(&city.assignment, s, months[0])
                    .expect("every situation gets a tariff")
                    .tariff
            })
            .collect();
        for &month in &months {
            let mut consumptions = Vec::new();
            for day in school_days(month) {
                for (child, tariff) in tariffs.iter().enumerate() {
                    let child_id = family_id * 10 + child as i64;
                    let youngest = child + 1 == tariffs.len();
                    if has_creche && youngest {
                        let mut c = consumption(child_id, "creche", "heure", day, tariff);
                        c.arrival = Some(clock(7 + dice.below(3) as u32, dice.below(60) as u32));
                        c.departure = Some(clock(16 + dice.below(3) as u32, dice.below(60) as u32));
                        consumptions.push((child, c));
                        continue;
                    }
                    if dice.chance(80) {
                        let mut c = consumption(child_id, "cantine", "repas", day, tariff);
                        c.state = match dice.below(50) {
                            0 => AttendanceState::AbsentJustified,
                            1 => AttendanceState::PresentUnbooked,
                            2 => AttendanceState::CancelledLate,
                            _ => AttendanceState::Present,
                        };
                        consumptions.push((child, c));
                    }
                    if dice.chance(55) {
                        let mut c = consumption(child_id, "periscolaire_soir", "soir", day, tariff);
                        c.arrival = Some(clock(16, 30));
                        c.departure = Some(clock(17 + dice.below(2) as u32, dice.below(60) as u32));
                        if dice.chance(3) {
                            c.departure = Some(clock(18, 31 + dice.below(29) as u32));
                        }
                        c.closing_time = Some(clock(18, 30));
                        consumptions.push((child, c));
                    }
                }
            }
            total += consumptions.len();
            family_months.push(FamilyMonth {
                situations: situations.clone(),
                consumptions,
                aids: aids.clone(),
            });
            if total >= CONSUMPTIONS {
                break;
            }
        }
    }
    // Trim the last family-month so exactly one million consumptions are priced.
    let excess = total - CONSUMPTIONS;
    if let Some(last) = family_months.last_mut() {
        last.consumptions.truncate(last.consumptions.len() - excess);
    }
    family_months
}

/// The billing run: price, fold aids, total. Returns the grand total and the line count.
fn bill(
    family_months: &[FamilyMonth],
    city: &CityPricing,
    context: &PricingContext,
) -> (Cents, usize) {
    let mut grand_total = Cents::ZERO;
    let mut line_count = 0;
    let mut lines = Vec::new();
    for family_month in family_months {
        lines.clear();
        for (child, consumption) in &family_month.consumptions {
            let grid = city.grid(&consumption.activity).expect("grid exists");
            let priced = price(consumption, &family_month.situations[*child], grid, context)
                .expect("the benchmark data prices without error");
            lines.extend(priced);
        }
        if !family_month.aids.is_empty() {
            lines = apply_aids(
                std::mem::take(&mut lines),
                &family_month.aids,
                &AidUsage::default(),
            )
            .expect("aids apply")
            .lines;
        }
        line_count += lines.len();
        grand_total += lines.iter().map(|line| line.amount).sum::<Cents>();
    }
    (grand_total, line_count)
}

fn pricing_benchmark(c: &mut Criterion) {
    let city = CityPricing::from_toml_str(CITY).expect("example city");
    let bareme = Bareme::shipped().expect("shipped barème");
    let context = PricingContext {
        settings: &city.settings,
        bareme: &bareme,
    };
    let family_months = generate(&city);
    let count: usize = family_months.iter().map(|f| f.consumptions.len()).sum();
    assert_eq!(count, CONSUMPTIONS);
    let (total, lines) = bill(&family_months, &city, &context);
    eprintln!(
        "{} family-months, {count} consumptions → {lines} lines, total {total}",
        family_months.len()
    );

    let mut group = c.benchmark_group("pricing");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CONSUMPTIONS as u64));
    group.bench_function("one_million_consumptions_with_aids", |b| {
        b.iter(|| black_box(bill(black_box(&family_months), &city, &context)))
    });
    group.finish();
}

criterion_group!(benches, pricing_benchmark);
criterion_main!(benches);
